"""Logging in: phone + one-time code for citizens and supervisees, password + TOTP for staff."""

from __future__ import annotations

from backend.accounts import lockout, validation
from backend.accounts.passwords import check_password, hash_password, totp_step, validate_new_password
from backend.accounts.principal import Principal
from backend.accounts.roles import PHONE_ROLES, STAFF_ROLES, Role
from backend.accounts.sessions import SessionService, TokenPair
from backend.accounts.tables import User
from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.context import SYSTEM, Actor
from backend.core.crypto import SecretBox
from backend.core.errors import InvalidCredentials, InvalidInput, Locked
from backend.db import sql
from backend.db.engine import write_tx
from backend.ops import ratelimit
from backend.settings import AuthSettings

ACCOUNT_FACTOR = 4  # account-wide guard: this many times the per-address failures


class AuthService:
    def __init__(self, settings: AuthSettings, sessions: SessionService, otp, totp_box: SecretBox) -> None:
        self._s = settings
        self._sessions = sessions
        self._otp = otp
        self._totp_box = totp_box

    async def _fail(
        self, subject: str, actor: Actor, object_type: str, object_id: str, max_failures: int | None = None
    ) -> None:
        locked_for = await lockout.register_failure(
            subject, max_failures or self._s.max_failures, self._s.lockout_base_seconds
        )
        if locked_for:
            await audit.record(actor, "auth.locked", object_type, object_id, {"seconds": locked_for})

    # Phone users ---------------------------------------------------------------------------------

    async def send_code(self, phone: str, client_address: str) -> None:
        phone = validation.phone(phone)
        await lockout.ensure_not_locked(f"phone:{phone}")
        s = self._s
        async with write_tx():
            # Cheapest check first; each limit counts only when the earlier ones passed.
            await ratelimit.hit(
                "otp-phone-burst", phone, 1, s.otp_per_phone_min_interval_seconds, "code requests"
            )
            await ratelimit.hit("otp-phone", phone, s.otp_per_phone_per_hour, 3600, "code requests")
            await ratelimit.hit(
                "otp-address", client_address, s.otp_per_address_per_hour, 3600, "code requests"
            )
        await self._otp.start(phone)

    async def login_with_code(
        self, phone: str, code: str, client_address: str, user_agent: str | None
    ) -> TokenPair:
        phone = validation.phone(phone)
        if not code.isdigit() or not 4 <= len(code) <= 10:
            raise InvalidInput("code", "must be the 4-10 digit code from the SMS")
        subject = f"phone:{phone}"
        await lockout.ensure_not_locked(subject)
        if not await self._otp.check(phone, code):
            await self._fail(subject, SYSTEM, "phone", phone[-4:])
            raise InvalidCredentials("The code is wrong or expired")
        await lockout.register_success(subject)
        async with write_tx():
            user = await User.objects().where(User.phone == phone).first()
            if user is None:
                # First login from a new number registers a citizen; supervisees are enrolled by officers.
                user = User(role=Role.CITIZEN, phone=phone, display_name="", created_at=utcnow())
                await user.save()
                await audit.record(
                    Actor(str(user.id), user.role), "user.registered", "user", user.id, {"via": "otp"}
                )
            if user.role not in PHONE_ROLES or not user.active:
                raise InvalidCredentials("This number cannot log in to the app")
            return await self._sessions.open(user, "mobile", client_address, user_agent)

    # Staff -----------------------------------------------------------------------------------------

    async def login_staff(
        self, username: str, password: str, totp_code: str, client_address: str, user_agent: str | None
    ) -> TokenPair:
        username = username.strip().lower()
        # Guessing is stopped per address (5 failures), so a stranger cannot lock an officer out of their own
        # workstation; guessing spread over many addresses trips the account-wide guard (4x as many
        # failures), which still lets the officer in from an address they have logged in from before.
        from_here, account = f"user:{username}@{client_address}", f"user:{username}"
        await lockout.ensure_not_locked(from_here)
        user = await User.objects().where(User.username == username).first()
        if (seconds := await lockout.locked_for(account)) is not None and not (
            user and await self._sessions.known_address(user, client_address)
        ):
            raise Locked(seconds)
        ok = check_password(user.password_hash if user else None, password)
        ok = ok and user.role in STAFF_ROLES and user.active and await self._totp_ok(user, totp_code)
        if not ok:
            object_id = str(user.id) if user else username
            await self._fail(from_here, SYSTEM, "user", object_id)
            await self._fail(account, SYSTEM, "user", object_id, self._s.max_failures * ACCOUNT_FACTOR)
            raise InvalidCredentials("Wrong username, password or authenticator code")
        await lockout.register_success(from_here)
        await lockout.register_success(account)
        return await self._sessions.open(user, "console", client_address, user_agent)

    async def _totp_ok(self, user: User, code: str) -> bool:
        """The code is right and has not been used yet. Claimed in one statement, so a code seen over a
        shoulder or replayed from a captured request fails even if sent twice at once."""
        if not user.totp_secret:
            return False
        step = totp_step(self._totp_box.open(bytes(user.totp_secret), b"totp").decode(), code)
        if step is None:
            return False
        claimed = await sql.fetch_one(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 "
            "AND (totp_last_step IS NULL OR totp_last_step < $1) RETURNING id",
            step,
            user.id,
        )
        return claimed is not None

    async def change_password(self, principal: Principal, current: str, new: str, totp_code: str) -> int:
        user = await User.objects().where(User.id == principal.user_id).first()
        if user is None or user.role not in STAFF_ROLES:
            raise InvalidInput("current_password", "this account has no password")
        subject = f"user:{user.username}"
        await lockout.ensure_not_locked(subject)
        if not (check_password(user.password_hash, current) and await self._totp_ok(user, totp_code)):
            await self._fail(subject, principal.actor, "user", str(user.id))
            raise InvalidCredentials("Wrong current password or authenticator code")
        validate_new_password(new)
        if new == current:
            raise InvalidInput("new_password", "must differ from the current password")
        async with write_tx():
            user.password_hash, user.password_changed_at = hash_password(new), utcnow()
            await user.save([User.password_hash, User.password_changed_at])
            await audit.record(principal.actor, "user.password_changed", "user", user.id, None, user.agency)
            return await self._sessions.revoke_all(user, "password-changed")

    async def logout(self, principal: Principal) -> None:
        await self._sessions.revoke(principal.session_id, "logout")
