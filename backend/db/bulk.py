"""Bulk insert for sweeps: one prepared statement, many rows, on the current transaction's connection.

piccolo's insert builds a query object per row, which costs about a millisecond a row; a sweep that writes
tens of thousands of ledger rows cannot afford that. Values go through the same driver adapters piccolo
uses (sqlite3's registered adapters, asyncpg's codecs), so piccolo reads the rows back as usual.
"""

from __future__ import annotations

from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from backend.db.engine import engine


async def bulk_insert(table: type[Table], columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    db = engine()
    tx = db.current_transaction.get()
    if tx is None:
        raise RuntimeError("bulk_insert() must run inside write_tx()")
    known = {c._meta.db_column_name for c in table._meta.columns}
    if unknown := [c for c in columns if c not in known]:
        raise ValueError(f"{table._meta.tablename} has no columns {unknown}")
    # Identifiers come from the table definition (checked above); values travel as parameters.
    names = ", ".join(f'"{c}"' for c in columns)
    if isinstance(db, SQLiteEngine):
        marks = ", ".join("?" for _ in columns)
    else:
        marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({marks})'  # noqa: S608
    await tx.connection.executemany(sql, rows)
