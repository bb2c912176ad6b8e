"""Audit rows hashed in two steps (body, then link), and sealed at COMMIT on PostgreSQL.

`body_hash` is the SHA-256 of a row's own fields; `row_hash` links it: SHA-256 of
"prev_hash:seq:body_hash", simple enough for PostgreSQL to compute. On PostgreSQL a row is inserted with a
pending (negative) seq and a deferred constraint trigger gives it its place in the chain as the transaction
commits, so the one lock every writer shares (the audit_head row) is held for the commit alone, not across
the writer's round trips. Rows written before this have no body_hash and keep their old hash.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-11-22T22:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_entries.body_hash; PostgreSQL seals audit rows at commit"


class RawTable(Table):
    pass


SEAL_AT_COMMIT = (
    "CREATE SEQUENCE IF NOT EXISTS audit_pending_seq",
    """CREATE OR REPLACE FUNCTION audit_seal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_seq bigint;
    prev text;
    sealed text;
BEGIN
    SELECT last_seq + 1, last_hash INTO next_seq, prev FROM audit_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_head has no row 1';
    END IF;
    sealed := encode(sha256(convert_to(prev || ':' || next_seq || ':' || NEW.body_hash, 'UTF8')), 'hex');
    UPDATE audit_head SET last_seq = next_seq, last_hash = sealed WHERE id = 1;
    UPDATE audit_entries SET seq = next_seq, prev_hash = prev, row_hash = sealed WHERE seq = NEW.seq;
    RETURN NULL;
END
$$""",
    "DROP TRIGGER IF EXISTS audit_seal ON audit_entries",
    "CREATE CONSTRAINT TRIGGER audit_seal AFTER INSERT ON audit_entries DEFERRABLE INITIALLY DEFERRED "
    "FOR EACH ROW WHEN (NEW.seq < 0) EXECUTE FUNCTION audit_seal()",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="remotecase", description=DESCRIPTION)

    manager.add_column(
        table_class_name="AuditEntry",
        tablename="audit_entries",
        column_name="body_hash",
        db_column_name="body_hash",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    # piccolo runs raw steps before adding columns; PL/pgSQL resolves NEW.body_hash only when it first runs.
    async def seal_at_commit():
        if isinstance(RawTable._meta.db, PostgresEngine):
            for statement in SEAL_AT_COMMIT:
                await RawTable.raw(statement)

    manager.add_raw(seal_at_commit)
    return manager
