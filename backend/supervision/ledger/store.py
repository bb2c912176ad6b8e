"""Every SQL statement of the ledger: the score row of a measure, ledger entries, rules and thresholds.

The check-in, location events and the missed sweep all book through here, so the statements are written
by hand (piccolo builds each query object in Python at 100-300 us; see backend.db.sql). The sweep books
thousands of entries at once: the same statements, in chunks."""

from __future__ import annotations

from backend.db import sql
from backend.db.bulk import bulk_insert
from backend.db.engine import is_sqlite
from backend.supervision.ledger.tables import LedgerEntry

CHUNK = 5000  # ids per IN list: far below either database's limit on parameters

ENTRY_COLUMNS = [
    "measure",
    "at",
    "event",
    "points",
    "rule_id",
    "rule_version",
    "reason",
    "decided_by",
    "evidence_type",
    "evidence_id",
    "score_after",
    "code_after",
    "status",
    "reverses",
]
_INSERT_ENTRY = (  # in ENTRY_COLUMNS order
    "INSERT INTO ledger_entries (measure, at, event, points, rule_id, rule_version, reason, decided_by, "
    "evidence_type, evidence_id, score_after, code_after, status, reverses) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id"
)
_SCORES = "SELECT id, score, code, executing_agency, compliant_since FROM measures WHERE id IN ({})"
_SET_SCORES = (
    "UPDATE measures SET score = $1, code = $2, compliant_since = $3, last_activity_at = $4 WHERE id IN ({})"
)
_RULE_VERSIONS = (
    "SELECT agency, points, version FROM score_rules WHERE rule_id = $1 AND active = $2 "
    "AND (agency IS NULL OR agency = $3) ORDER BY version DESC"
)
_THRESHOLDS = "SELECT green_min, yellow_min FROM agency_policies WHERE agency = $1"
_ENTRY = "SELECT id FROM ledger_entries WHERE id = $1"


def _marks(start: int, n: int) -> str:
    return ", ".join(f"${i}" for i in range(start, start + n))


def _chunks(ids: list) -> list[list]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


async def lock_scores(measure_ids: list) -> dict[str, dict]:
    """The score rows of these measures, locked for the rest of the transaction on PostgreSQL (in id
    order, so two writers never wait on each other); SQLite's writer is single. Keyed by str(id)."""
    lock = "" if is_sqlite() else " ORDER BY id FOR NO KEY UPDATE"  # why NO KEY: sql.fetch_one_for_update
    rows: dict[str, dict] = {}
    for chunk in _chunks(measure_ids):
        for row in await sql.fetch(_SCORES.format(_marks(1, len(chunk))) + lock, *chunk):
            rows[str(row["id"])] = row
    return rows


async def insert_entries(rows: list[tuple]) -> int | None:
    """One entry: its id back. Many (a sweep): one prepared statement, no ids."""
    if len(rows) == 1:
        return (await sql.fetch_one(_INSERT_ENTRY, *rows[0]))["id"]
    await bulk_insert(LedgerEntry, ENTRY_COLUMNS, rows)
    return None


async def set_scores(score: int, code: str, compliant_since, now, measure_ids: list) -> None:
    for chunk in _chunks(measure_ids):
        await sql.execute(
            _SET_SCORES.format(_marks(5, len(chunk))), score, code, compliant_since, now, *chunk
        )


async def lock_entry(entry_id: int) -> None:
    """Two officers taking back one entry at once: the second waits here, then finds it taken back."""
    await sql.fetch_one_for_update(_ENTRY, entry_id)


async def rule_versions(agency_id: object, rule_id: str) -> list[dict]:
    return await sql.fetch(_RULE_VERSIONS, rule_id, True, agency_id)


async def thresholds_row(agency_id: object) -> dict | None:
    return await sql.fetch_one(_THRESHOLDS, agency_id)
