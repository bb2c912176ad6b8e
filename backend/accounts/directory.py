"""Agencies and user accounts: who may create, see and change which."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pyotp

from backend.accounts import access, validation
from backend.accounts.passwords import hash_password_off_loop, new_totp_secret, validate_new_password
from backend.accounts.principal import Principal
from backend.accounts.roles import PHONE_ROLES, ROLE_AGENCY_KIND, STAFF_ROLES, AgencyKind, Role
from backend.accounts.tables import Agency, AuthSession, User
from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.crypto import SecretBox
from backend.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from backend.core.pagination import Page, check_limit, decode_uuid_cursor, keyset, page_of
from backend.db.engine import write_tx


@dataclass
class NewStaff:
    user: User
    totp_secret: str  # shown once, for the officer's authenticator app

    @property
    def totp_uri(self) -> str:
        return pyotp.TOTP(self.totp_secret).provisioning_uri(
            name=self.user.username, issuer_name="remotecase"
        )


TAKEN_NUMBER = "This phone number cannot be used for a new person; ask the person to confirm their number"
# A citizen's number: saying so tells nothing about supervision, and the officer needs it to link them.
CITIZEN_NUMBER = (
    "This phone number belongs to a user of the app, who must be linked explicitly: "
    "send link_existing_citizen: true to enrol that account"
)


def _taken_number() -> Conflict:
    # One answer for every taken number, whoever holds it and whichever agency supervises them: naming
    # either would tell an officer of any agency who is supervised where.
    return Conflict(TAKEN_NUMBER, errors=[FieldError("phone", "ask the person to confirm their number")])


def _require(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise Forbidden(f"This action needs one of the roles: {', '.join(roles)}")


class DirectoryService:
    def __init__(self, totp_box: SecretBox) -> None:
        self._totp_box = totp_box

    # Agencies ------------------------------------------------------------------------------------

    async def create_agency(self, principal: Principal, kind: str, name: str, region_code: str) -> Agency:
        if not access.is_platform_admin(principal):
            raise Forbidden("Only a platform administrator creates agencies")
        if kind not in AgencyKind.__members__.values():
            raise InvalidInput("kind", f"must be one of {', '.join(k.value for k in AgencyKind)}")
        agency = Agency(
            kind=kind, name=validation.name(name, "name"), region_code=validation.region_code(region_code)
        )
        async with write_tx():
            await agency.save()
            await audit.record(
                principal.actor, "agency.created", "agency", agency.id, agency.to_dict(), agency.id
            )
        return agency

    async def list_agencies(self, principal: Principal, cursor: str | None, limit: int) -> Page[Agency]:
        _require(principal, *STAFF_ROLES)
        query = Agency.objects().order_by(Agency.id).limit(check_limit(limit) + 1)
        after = decode_uuid_cursor(cursor)
        if after is not None:
            query = query.where(Agency.id > after)
        # The agency directory is open to all staff: they transfer records to each other.
        return page_of(await query, limit, lambda a: str(a.id))

    async def get_agency(self, principal: Principal, agency_id: str) -> Agency:
        agency = await Agency.objects().where(Agency.id == agency_id).first()
        if agency is None or principal.role in PHONE_ROLES:
            raise NotFound("agency")
        return agency

    # Staff accounts ------------------------------------------------------------------------------

    async def create_staff(
        self,
        principal: Principal,
        role: str,
        username: str,
        display_name: str,
        password: str,
        agency_id: str | None,
    ) -> NewStaff:
        _require(principal, Role.ADMIN)
        if role not in STAFF_ROLES:
            raise InvalidInput("role", f"must be one of {', '.join(sorted(STAFF_ROLES))}")
        if not access.is_platform_admin(principal):
            if agency_id not in (None, principal.agency_id):
                raise NotFound("agency")
            agency_id = principal.agency_id
        agency = await Agency.objects().where(Agency.id == agency_id).first() if agency_id else None
        if agency_id and agency is None:
            raise NotFound("agency")
        if role != Role.ADMIN and agency is None:
            raise InvalidInput("agency_id", "staff other than platform admins belong to an agency")
        expected_kind = ROLE_AGENCY_KIND.get(Role(role))
        if agency and expected_kind and agency.kind != expected_kind:
            raise InvalidInput("role", f"a {role} belongs to a {expected_kind} agency, not a {agency.kind}")
        username = validation.username(username)
        validate_new_password(password, "password")
        secret = new_totp_secret()
        user = User(
            role=role,
            agency=agency.id if agency else None,
            region_code=agency.region_code if agency else None,
            display_name=validation.name(display_name),
            username=username,
            password_hash=await hash_password_off_loop(password),
            totp_secret=self._totp_box.seal(secret.encode(), b"totp"),
            created_at=utcnow(),
        )
        async with write_tx():
            if await User.exists().where(User.username == username):
                raise Conflict("That username is taken", errors=[])
            await user.save()
            await audit.record(
                principal.actor,
                "user.created",
                "user",
                user.id,
                {"role": role, "username": username},
                user.agency,
            )
        return NewStaff(user, secret)

    # Supervised persons -------------------------------------------------------------------------

    async def register_supervisee(
        self,
        principal: Principal,
        phone: str,
        display_name: str,
        region_code: str,
        link_existing_citizen: bool = False,
        replace_display_name: bool = False,
    ) -> User:
        """An officer enrols a supervised person under the officer's agency. A number that already belongs
        to a citizen of the app is linked only when the officer says so; the account keeps the name its
        owner chose unless `replace_display_name` is given too."""
        _require(principal, Role.OFFICER, Role.PROSECUTOR, Role.JUDGE, Role.CORRECTIONS_OFFICER)
        phone = validation.phone(phone)
        user = User(
            role=Role.SUPERVISEE,
            agency=principal.agency_id,
            region_code=validation.region_code(region_code),
            display_name=validation.name(display_name),
            phone=phone,
            created_at=utcnow(),
        )
        async with write_tx():
            existing = await User.select(User.role).where(User.phone == phone).first()
            if existing is None:
                await user.save()  # two at once: the unique phone refuses the second (409)
                await audit.record(
                    principal.actor,
                    "user.supervisee_registered",
                    "user",
                    user.id,
                    {"phone": phone},
                    principal.agency_id,
                )
                return user
            if existing["role"] != Role.CITIZEN:
                raise _taken_number()
            if not link_existing_citizen:
                raise Conflict(
                    CITIZEN_NUMBER,
                    errors=[FieldError("phone", "belongs to an app user; link with link_existing_citizen")],
                )
            return await self._link_citizen(principal, user, replace_display_name)

    async def _link_citizen(self, principal: Principal, wanted: User, replace_display_name: bool) -> User:
        """The citizen's own account becomes the supervised person's. One conditional UPDATE: of two
        officers linking the same citizen at once, one converts it and the other finds no citizen left."""
        values = {
            User.role: Role.SUPERVISEE,
            User.agency: principal.agency_id,
            User.region_code: wanted.region_code,
        }
        if replace_display_name:
            values[User.display_name] = wanted.display_name
        linked = await (
            User.update(values)
            .where((User.phone == wanted.phone) & (User.role == Role.CITIZEN))
            .returning(User.id)
        )
        if not linked:
            raise _taken_number()
        user = await User.objects().where(User.id == linked[0]["id"]).first()
        await audit.record(
            principal.actor,
            "user.citizen_linked",
            "user",
            user.id,
            {
                "phone": user.phone,
                "previous_role": Role.CITIZEN.value,
                "role": Role.SUPERVISEE.value,
                "officer_id": principal.user_id,
                "display_name_replaced": replace_display_name,
            },
            principal.agency_id,
        )
        return user

    # Reading users -------------------------------------------------------------------------------

    async def get_user(self, principal: Principal, user_id: str) -> User:
        user = await User.objects().where(User.id == user_id).first()
        if user is None or not await self._can_see(principal, user):
            raise NotFound("user")
        return user

    async def _can_see(self, principal: Principal, user: User) -> bool:
        if str(user.id) == principal.user_id:
            return True
        if principal.role in PHONE_ROLES:
            return False
        return await access.staff_can_see(principal, user.agency, "user", user.id)

    async def list_users(
        self, principal: Principal, role: str | None, cursor: str | None, limit: int
    ) -> Page[User]:
        _require(principal, *STAFF_ROLES)
        query = User.objects().order_by(User.id).limit(check_limit(limit) + 1)
        agencies = await access.visible_agency_ids(principal)
        if agencies is not None:
            if not agencies:
                return Page([], None)
            query = query.where(User.agency.is_in(sorted(agencies)))
        if role is not None:
            if role not in Role.__members__.values():
                raise InvalidInput("role", f"must be one of {', '.join(r.value for r in Role)}")
            query = query.where(User.role == role)
        after = decode_uuid_cursor(cursor)
        if after is not None:
            query = query.where(User.id > after)
        return page_of(await query, limit, lambda u: str(u.id))

    # Own sessions ---------------------------------------------------------------------------------

    async def my_sessions(self, principal: Principal, cursor: str | None, limit: int) -> Page[AuthSession]:
        """The caller's live sessions, newest first."""
        query = AuthSession.objects().where(
            (AuthSession.user == principal.user_id) & AuthSession.revoked_at.is_null()
        )
        return await keyset(query, (AuthSession.id,), (uuid.UUID,), cursor, limit, newest_first=True)

    async def my_session(self, principal: Principal, session_id: str) -> AuthSession:
        session = await AuthSession.objects().where(AuthSession.id == session_id).first()
        if session is None or str(session.user) != principal.user_id:
            raise NotFound("session")
        return session
