"""Request and response bodies for accounts (shared by the console and phone APIs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from backend.accounts.roles import AgencyKind, Role

# Formatting and any script's digits are accepted here and normalised to E.164 by validation.phone, which
# every account, code and limit is keyed on ("+86 138-0013-8000" and fullwidth digits are one number).
Phone = Annotated[
    str,
    Meta(min_length=8, max_length=40, description="international form, e.g. +8613800138000"),
]
Code = Annotated[str, Meta(min_length=4, max_length=10, pattern=r"^[0-9]+$")]
Secret = Annotated[str, Meta(min_length=1, max_length=256)]
Totp = Annotated[str, Meta(min_length=6, max_length=8, pattern=r"^\d+$")]
Region = Annotated[str, Meta(pattern=r"^\d{6}$", description="6-digit administrative division code")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]


class CodeRequest(msgspec.Struct, forbid_unknown_fields=True):
    phone: Phone


class CodeSent(msgspec.Struct):
    sent: bool
    expires_in: int


class CodeLogin(msgspec.Struct, forbid_unknown_fields=True):
    phone: Phone
    code: Code


class StaffLogin(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Secret
    totp: Totp


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, Meta(min_length=10, max_length=200)]


class Tokens(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str
    token_type: str = "Bearer"  # noqa: S105 (a scheme name, not a secret)


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Secret
    new_password: Secret
    totp: Totp


class PasswordChanged(msgspec.Struct):
    sessions_ended: int


class AgencyIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Annotated[str, Meta(description="police | procuratorate | court | justice_bureau")]
    name: Name
    region_code: Region


class AgencyOut(msgspec.Struct):
    id: UUID
    kind: AgencyKind
    name: str
    region_code: str
    created_at: datetime


class AgencyPage(msgspec.Struct):
    items: list[AgencyOut]
    next_cursor: str | None


class StaffIn(msgspec.Struct, forbid_unknown_fields=True):
    role: str
    username: Annotated[str, Meta(min_length=3, max_length=64)]
    display_name: Name
    password: Secret
    agency_id: UUID | None = None


class SuperviseeIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: Phone
    display_name: Name
    region_code: Region
    # A number that already belongs to a citizen of the app is refused (409) unless this says to link
    # that account; it then keeps the name its owner chose unless replace_display_name is true too.
    link_existing_citizen: bool = False
    replace_display_name: bool = False


class UserOut(msgspec.Struct):
    id: UUID
    role: Role
    display_name: str
    agency_id: UUID | None
    region_code: str | None
    phone: str | None
    username: str | None
    active: bool
    created_at: datetime
    language: str | None = None  # zh | en as the user chose; null: Accept-Language, else zh


class MeUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """What a phone user may change on their own account. A field left out stays as it is."""

    # zh | en, checked by the service (a 422 naming the field); null clears the choice: texts then follow
    # the request's Accept-Language, else Chinese.
    language: Annotated[str, Meta(max_length=8, description="zh | en")] | None | msgspec.UnsetType = (
        msgspec.UNSET
    )


class NewStaffOut(msgspec.Struct):
    user: UserOut
    totp_secret: str
    totp_uri: str


class UserPage(msgspec.Struct):
    items: list[UserOut]
    next_cursor: str | None


class SessionOut(msgspec.Struct):
    id: UUID
    channel: Literal["console", "mobile"]
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_address: str | None
    user_agent: str | None
    current: bool


class SessionPage(msgspec.Struct):
    items: list[SessionOut]
    next_cursor: str | None


def user_out(user) -> UserOut:
    return UserOut(
        id=user.id,
        role=user.role,
        display_name=user.display_name,
        agency_id=user.agency,
        region_code=user.region_code,
        phone=user.phone,
        username=user.username,
        active=user.active,
        created_at=user.created_at,
        language=user.language,
    )


def agency_out(agency) -> AgencyOut:
    return AgencyOut(agency.id, agency.kind, agency.name, agency.region_code, agency.created_at)


def tokens_out(pair) -> Tokens:
    return Tokens(pair.access_token, pair.refresh_token, pair.expires_in, pair.session_id)


def session_out(session, current_id: str) -> SessionOut:
    return SessionOut(
        id=session.id,
        channel=session.channel,
        created_at=session.created_at,
        last_seen_at=session.last_seen_at,
        expires_at=session.expires_at,
        client_address=session.client_address,
        user_agent=session.user_agent,
        current=str(session.id) == current_id,
    )
