"""Sessions, short-lived access tokens and rotating refresh tokens.

An access token is signed and names its session; every request re-checks that session (revoked, idle,
absolute limit), so logout and password change take effect at once. A refresh token is single-use: using
one twice means it was stolen, and the whole session is revoked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from backend.accounts import store
from backend.accounts.principal import Principal
from backend.accounts.roles import PHONE_ROLES
from backend.accounts.tables import AuthSession, RefreshToken, User
from backend.audit import services as audit
from backend.core.clock import as_utc, utcnow
from backend.core.context import Actor
from backend.core.crypto import sha256_hex
from backend.core.errors import NotAuthenticated
from backend.core.ids import parse_uuid
from backend.core.keyring import KeyRing, RingTokenSigner
from backend.db.engine import write_tx
from backend.settings import AuthSettings

# Writing last_seen_at on every request would turn reads into writes; a minute is precise enough.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str


class SessionService:
    def __init__(self, settings: AuthSettings, keys: KeyRing | bytes) -> None:
        self._settings = settings
        # Tokens name their key: after a rotation, tokens signed by an older key of the ring still verify.
        ring = keys if isinstance(keys, KeyRing) else KeyRing.single(keys)
        self._signer = RingTokenSigner(ring, "access-token")

    def _limits(self, channel: str) -> tuple[int, int]:
        s = self._settings
        if channel == "console":
            return s.officer_idle_seconds, s.officer_absolute_seconds
        return s.mobile_idle_seconds, s.mobile_absolute_seconds

    async def open(self, user: User, channel: str, client_address: str | None, user_agent: str | None):
        now = utcnow()
        _, absolute = self._limits(channel)
        async with write_tx():
            session = AuthSession(
                user=user.id,
                channel=channel,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(seconds=absolute),
                client_address=client_address,
                user_agent=(user_agent or "")[:300] or None,
            )
            await session.save()
            pair = await self._issue(session, user)
            await audit.record(
                self._actor(user), "session.opened", "session", session.id, {"channel": channel}, user.agency
            )
        return pair

    async def _issue(self, session: AuthSession, user: User) -> TokenPair:
        now = utcnow()
        ttl = self._settings.access_token_seconds
        access = self._signer.sign(
            {"sid": str(session.id), "uid": str(user.id), "exp": int(now.timestamp()) + ttl}
        )
        refresh = secrets.token_urlsafe(32)
        expires = min(
            as_utc(session.expires_at), now + timedelta(seconds=self._settings.refresh_token_seconds)
        )
        await RefreshToken.insert(
            RefreshToken(
                session=session.id, token_hash=sha256_hex(refresh), issued_at=now, expires_at=expires
            )
        )
        return TokenPair(access, refresh, ttl, str(session.id))

    async def known_address(self, user: User, client_address: str, days: int = 30) -> bool:
        """Whether the user has opened a session from this address lately (their usual workstation)."""
        return await store.opened_from(user.id, client_address, utcnow() - timedelta(days=days))

    @staticmethod
    def _actor(user: User) -> Actor:
        return Actor(id=str(user.id), role=user.role, agency_id=str(user.agency) if user.agency else None)

    def caller_of(self, token: str) -> str | None:
        """The user id a token claims, checked for signature only (used to scope idempotency keys)."""
        claims = self._signer.verify(token)
        return claims.get("uid") if claims else None

    async def authenticate(self, token: str, channel: str | None = None) -> Principal:
        """The principal of a live session. With `channel` ("console" for /api/v1, "mobile" for /m/v1), a
        session opened on the other channel is refused like an unknown one."""
        claims = self._signer.verify(token)
        now = utcnow()
        if not claims or not isinstance(claims.get("exp"), int) or claims["exp"] < now.timestamp():
            raise NotAuthenticated("The access token is invalid or expired; refresh it or log in again")
        session_id = parse_uuid(claims.get("sid"))
        if session_id is None:
            raise NotAuthenticated("The session does not exist")
        # Every request passes here: one hand-written statement (backend.accounts.store).
        row = await store.session_with_user(session_id)
        if row is None or (channel is not None and row["channel"] != channel):
            raise NotAuthenticated("The session does not exist")
        self._check_alive(row, now)
        if now - as_utc(row["last_seen_at"]) > TOUCH_EVERY:
            await store.touch_session(row["id"], now)
        agency = row["user.agency"]
        return Principal(
            user_id=str(row["user"]),
            role=row["user.role"],
            session_id=str(row["id"]),
            agency_id=str(agency) if agency else None,
            region_code=row["user.region_code"],
            channel=row["channel"],
        )

    def _check_alive(self, row: dict, now) -> None:
        idle, _ = self._limits(row["channel"])
        if row["revoked_at"] is not None:
            raise NotAuthenticated("The session has ended; log in again")
        if not row.get("user.active", True):
            raise NotAuthenticated("The account is disabled")
        if as_utc(row["expires_at"]) <= now:
            raise NotAuthenticated("The session reached its time limit; log in again")
        if (now - as_utc(row["last_seen_at"])).total_seconds() > idle:
            raise NotAuthenticated("The session was idle too long; log in again")

    async def refresh(self, refresh_token: str, channel: str | None = None) -> TokenPair:
        """Trade a refresh token for a new pair. The token is claimed in one conditional statement: of
        requests sending it at once one wins, and any other is a reuse, which ends the session (someone
        else holds a copy). A token is only good on the channel its session was opened on."""
        now = utcnow()
        token_hash = sha256_hex(refresh_token)
        reused = False
        async with write_tx():
            claimed = await store.claim_refresh_token(token_hash, now, channel)
            if claimed is None:
                token = await store.refresh_token(token_hash)
                if token is None or (channel is not None and token["channel"] != channel):
                    raise NotAuthenticated("Unknown refresh token")
                if token["used_at"] is None:  # unused, so not claimable: it expired
                    raise NotAuthenticated("The refresh token expired; log in again")
                # Reuse of a rotated token: someone else holds a copy. End the session for both.
                await self._revoke(token["session"], "refresh-token-reuse")
                reused = True
            else:
                session = await AuthSession.objects().where(AuthSession.id == claimed["session"]).first()
                user = await User.objects().where(User.id == session.user).first()
                self._check_alive(session.to_dict() | {"user.active": user.active}, now)
                session.last_seen_at = now
                await session.save([AuthSession.last_seen_at])
                pair = await self._issue(session, user)
        if reused:
            raise NotAuthenticated("This refresh token was already used; the session has been ended")
        return pair

    async def _revoke(self, session_id, reason: str) -> bool:
        """End a session once: of several revocations at once only one writes it and its audit row."""
        row = await store.end_session(session_id, utcnow(), reason)
        if row is None:
            return False
        user = await User.objects().where(User.id == row["user"]).first()
        await audit.record(self._actor(user), "session.revoked", "session", session_id, {"reason": reason})
        return True

    async def revoke(self, session_id: str, reason: str) -> None:
        async with write_tx():
            await self._revoke(session_id, reason)

    async def revoke_all(self, user: User, reason: str) -> int:
        async with write_tx():
            sessions = await AuthSession.select(AuthSession.id).where(
                (AuthSession.user == user.id) & AuthSession.revoked_at.is_null()
            )
            ended = [await self._revoke(session["id"], reason) for session in sessions]
        return sum(ended)


def channel_for(role: str) -> str:
    return "mobile" if role in PHONE_ROLES else "console"
