"""Logging in: phone + one-time code for citizens and supervisees, password + TOTP for staff."""

from __future__ import annotations

from backend.accounts import lockout, store, validation
from backend.accounts.passwords import (
    hash_password_off_loop,
    is_ascii_code,
    totp_step,
    validate_new_password,
    verify_password,
)
from backend.accounts.principal import Principal
from backend.accounts.roles import PHONE_ROLES, STAFF_ROLES, Role
from backend.accounts.sessions import SessionService, TokenPair
from backend.accounts.tables import User
from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.context import SYSTEM, Actor
from backend.core.crypto import SecretBox
from backend.core.errors import InvalidCredentials, InvalidInput, Locked
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

    async def _reserve(self, subject: str, max_failures: int | None = None) -> lockout.Attempt:
        return await lockout.reserve(
            subject, max_failures or self._s.max_failures, self._s.lockout_base_seconds
        )

    @staticmethod
    async def _failed(actor: Actor, object_type: str, object_id: str, *attempts: lockout.Attempt) -> None:
        """The attempts were counted when reserved; a wrong one that reached the limit locked, on record."""
        for attempt in attempts:
            if (seconds := attempt.lock_seconds()) is not None:
                await audit.record(actor, "auth.locked", object_type, object_id, {"seconds": seconds})

    # Phone users ---------------------------------------------------------------------------------

    async def send_code(self, phone: str, client_address: str, accept_language: str | None = None) -> None:
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
        await self._otp.start(phone, accept_language)

    async def login_with_code(
        self, phone: str, code: str, client_address: str, user_agent: str | None
    ) -> TokenPair:
        phone = validation.phone(phone)
        if not is_ascii_code(code, 4, 10):
            raise InvalidInput("code", "must be the 4-10 digit code from the SMS")
        # Counted before it is judged: of many codes sent at once, only the limit's worth are checked.
        attempt = await self._reserve(f"phone:{phone}")
        if not await self._otp.check(phone, code):
            await self._failed(SYSTEM, "phone", phone[-4:], attempt)
            raise InvalidCredentials("The code is wrong or expired")
        await lockout.succeeded(attempt)
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
        # Guessing is stopped per address (5 attempts), so a stranger cannot lock an officer out of their own
        # workstation; guessing spread over many addresses trips the account-wide guard (4x as many),
        # which still lets the officer in from an address they have logged in from before. Each attempt
        # is counted before the password is checked, per address first: an address that is locked out
        # adds nothing to the account's count.
        here = await self._reserve(f"user:{username}@{client_address}")
        user = await User.objects().where(User.username == username).first()
        account: lockout.Attempt | None = None
        try:
            account = await self._reserve(f"user:{username}", self._s.max_failures * ACCOUNT_FACTOR)
        except Locked:
            if not (user and await self._sessions.known_address(user, client_address)):
                raise
        ok = await verify_password(user.password_hash if user else None, password)
        ok = ok and user.role in STAFF_ROLES and user.active and await self._totp_ok(user, totp_code)
        if not ok:
            object_id = str(user.id) if user else username
            await self._failed(SYSTEM, "user", object_id, here, *([account] if account else []))
            raise InvalidCredentials("Wrong username, password or authenticator code")
        await lockout.succeeded(here)
        if account is not None:  # a login let in past the account's lock leaves that lock in place
            await lockout.succeeded(account)
        return await self._sessions.open(user, "console", client_address, user_agent)

    async def _totp_ok(self, user: User, code: str) -> bool:
        """The code is right and has not been used yet. Claimed in one statement, so a code seen over a
        shoulder or replayed from a captured request fails even if sent twice at once."""
        if not user.totp_secret:
            return False
        step = totp_step(self._totp_box.open(bytes(user.totp_secret), b"totp").decode(), code)
        if step is None:
            return False
        return await store.claim_totp_step(user.id, step)

    async def change_password(self, principal: Principal, current: str, new: str, totp_code: str) -> int:
        user = await User.objects().where(User.id == principal.user_id).first()
        if user is None or user.role not in STAFF_ROLES:
            raise InvalidInput("current_password", "this account has no password")
        # Its own guard: a stolen session guessing the password is stopped after 5 attempts, and the
        # account-wide login count (with its higher limit) is not mixed into it.
        attempt = await self._reserve(f"password:{user.id}")
        ok = await verify_password(user.password_hash, current)
        if not (ok and await self._totp_ok(user, totp_code)):
            await self._failed(principal.actor, "user", str(user.id), attempt)
            raise InvalidCredentials("Wrong current password or authenticator code")
        await lockout.succeeded(attempt)
        validate_new_password(new)
        if new == current:
            raise InvalidInput("new_password", "must differ from the current password")
        new_hash = await hash_password_off_loop(new)
        async with write_tx():
            user.password_hash, user.password_changed_at = new_hash, utcnow()
            await user.save([User.password_hash, User.password_changed_at])
            await audit.record(principal.actor, "user.password_changed", "user", user.id, None, user.agency)
            return await self._sessions.revoke_all(user, "password-changed")

    async def logout(self, principal: Principal) -> None:
        await self._sessions.revoke(principal.session_id, "logout")
