"""Roles and agency kinds."""

from enum import StrEnum


class Role(StrEnum):
    CITIZEN = "citizen"
    SUPERVISEE = "supervisee"
    OFFICER = "officer"  # police
    PROSECUTOR = "prosecutor"
    JUDGE = "judge"
    CORRECTIONS_OFFICER = "corrections_officer"  # justice bureau, community correction
    ADMIN = "admin"


class AgencyKind(StrEnum):
    POLICE = "police"
    PROCURATORATE = "procuratorate"
    COURT = "court"
    JUSTICE_BUREAU = "justice_bureau"


PHONE_ROLES = frozenset({Role.CITIZEN, Role.SUPERVISEE})
STAFF_ROLES = frozenset({Role.OFFICER, Role.PROSECUTOR, Role.JUDGE, Role.CORRECTIONS_OFFICER, Role.ADMIN})

# Which staff role belongs in which kind of agency (admins may sit in any).
ROLE_AGENCY_KIND = {
    Role.OFFICER: AgencyKind.POLICE,
    Role.PROSECUTOR: AgencyKind.PROCURATORATE,
    Role.JUDGE: AgencyKind.COURT,
    Role.CORRECTIONS_OFFICER: AgencyKind.JUSTICE_BUREAU,
}
