"""Console API for accounts: staff login, agencies, users."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from backend.accounts.auth_service import AuthService
from backend.accounts.directory import DirectoryService
from backend.accounts.schemas import (
    AgencyIn,
    AgencyOut,
    AgencyPage,
    NewStaffOut,
    PasswordChange,
    PasswordChanged,
    RefreshRequest,
    StaffIn,
    StaffLogin,
    SuperviseeIn,
    Tokens,
    UserOut,
    UserPage,
    agency_out,
    tokens_out,
    user_out,
)
from backend.accounts.sessions import SessionService
from backend.web.deps import BEARER, STAFF, CurrentPrincipal, PageLimit, client_address

NO_IDEMPOTENCY = {"idempotency": False}


class StaffAuthController(Controller):
    path = "/auth"
    tags = ["console: auth"]

    @post("/login", operation_id="staffLogin", status_code=HTTP_200_OK, opt=NO_IDEMPOTENCY)
    async def login(
        self, request: Request, auth: NamedDependency[AuthService], data: JSONBody[StaffLogin]
    ) -> Tokens:
        """Log in with username, password and the current authenticator (TOTP) code."""
        pair = await auth.login_staff(
            data.username,
            data.password,
            data.totp,
            client_address(request),
            request.headers.get("user-agent"),
        )
        return tokens_out(pair)

    @post("/refresh", operation_id="staffRefresh", status_code=HTTP_200_OK, opt=NO_IDEMPOTENCY)
    async def refresh(
        self, sessions: NamedDependency[SessionService], data: JSONBody[RefreshRequest]
    ) -> Tokens:
        """Trade a refresh token for a new pair; the old refresh token stops working."""
        return tokens_out(await sessions.refresh(data.refresh_token, "console"))

    @post(
        "/logout",
        operation_id="staffLogout",
        status_code=HTTP_204_NO_CONTENT,
        dependencies=STAFF,
        security=BEARER,
        opt=NO_IDEMPOTENCY,
    )
    async def logout(self, auth: NamedDependency[AuthService], principal: CurrentPrincipal) -> None:
        """End this session: its access and refresh tokens stop working at once."""
        await auth.logout(principal)

    @post(
        "/password",
        operation_id="staffChangePassword",
        status_code=HTTP_200_OK,
        dependencies=STAFF,
        security=BEARER,
        opt=NO_IDEMPOTENCY,
    )
    async def change_password(
        self, auth: NamedDependency[AuthService], principal: CurrentPrincipal, data: JSONBody[PasswordChange]
    ) -> PasswordChanged:
        """Change the password; every session of the account ends, this one included."""
        ended = await auth.change_password(principal, data.current_password, data.new_password, data.totp)
        return PasswordChanged(sessions_ended=ended)


class AgencyController(Controller):
    path = "/agencies"
    tags = ["console: agencies"]
    dependencies = STAFF
    security = BEARER

    @get("/", operation_id="listAgencies")
    async def list_agencies(
        self,
        directory: NamedDependency[DirectoryService],
        principal: CurrentPrincipal,
        cursor: FromQuery[str | None] = None,
        limit: PageLimit = 50,
    ) -> AgencyPage:
        """All agencies, for choosing where to transfer a record."""
        page = await directory.list_agencies(principal, cursor, limit)
        return AgencyPage([agency_out(a) for a in page.items], page.next_cursor)

    @post("/", operation_id="createAgency")
    async def create_agency(
        self,
        directory: NamedDependency[DirectoryService],
        principal: CurrentPrincipal,
        data: JSONBody[AgencyIn],
    ) -> AgencyOut:
        """Create an agency (platform administrators only)."""
        agency = await directory.create_agency(principal, data.kind, data.name, data.region_code)
        return agency_out(agency)

    @get("/{agency_id:uuid}", operation_id="getAgency")
    async def get_agency(
        self,
        directory: NamedDependency[DirectoryService],
        principal: CurrentPrincipal,
        agency_id: FromPath[UUID],
    ) -> AgencyOut:
        """One agency."""
        return agency_out(await directory.get_agency(principal, str(agency_id)))


class UserController(Controller):
    path = "/"
    tags = ["console: users"]
    dependencies = STAFF
    security = BEARER

    @get("/me", operation_id="staffMe")
    async def me(self, directory: NamedDependency[DirectoryService], principal: CurrentPrincipal) -> UserOut:
        """The logged-in staff member."""
        return user_out(await directory.get_user(principal, principal.user_id))

    @get("/users", operation_id="listUsers")
    async def list_users(
        self,
        directory: NamedDependency[DirectoryService],
        principal: CurrentPrincipal,
        role: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: PageLimit = 50,
    ) -> UserPage:
        """Users of the agencies this caller oversees, optionally of one role."""
        page = await directory.list_users(principal, role, cursor, limit)
        return UserPage([user_out(u) for u in page.items], page.next_cursor)

    @post("/users", operation_id="createStaff")
    async def create_staff(
        self,
        directory: NamedDependency[DirectoryService],
        principal: CurrentPrincipal,
        data: JSONBody[StaffIn],
    ) -> NewStaffOut:
        """Create a staff account; the authenticator secret is shown only in this response."""
        created = await directory.create_staff(
            principal,
            data.role,
            data.username,
            data.display_name,
            data.password,
            str(data.agency_id) if data.agency_id else None,
        )
        return NewStaffOut(user_out(created.user), created.totp_secret, created.totp_uri)

    @get("/users/{user_id:uuid}", operation_id="getUser")
    async def get_user(
        self,
        directory: NamedDependency[DirectoryService],
        principal: CurrentPrincipal,
        user_id: FromPath[UUID],
    ) -> UserOut:
        """One user, if this caller may see them."""
        return user_out(await directory.get_user(principal, str(user_id)))

    @post("/supervisees", operation_id="registerSupervisee")
    async def register_supervisee(
        self,
        directory: NamedDependency[DirectoryService],
        principal: CurrentPrincipal,
        data: JSONBody[SuperviseeIn],
    ) -> UserOut:
        """Enrol a supervised person under the caller's agency; they log in to the app with their phone.

        A number that already belongs to a citizen of the app answers 409 unless `link_existing_citizen`
        is true: that account then becomes the supervised person's, keeping its own display name unless
        `replace_display_name` is true as well."""
        user = await directory.register_supervisee(
            principal,
            data.phone,
            data.display_name,
            data.region_code,
            link_existing_citizen=data.link_existing_citizen,
            replace_display_name=data.replace_display_name,
        )
        return user_out(user)
