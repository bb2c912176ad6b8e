"""Apply piccolo migrations, then the seeds the caller names (the domains' own rows; backend.domains)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from piccolo.apps.migrations.commands.forwards import run_forwards

from backend.db.engine import close_database, open_database


async def migrate(seeds: Iterable[Callable[[], Awaitable[None]]] = ()) -> None:
    await open_database()
    try:
        result = await run_forwards(app_name="all")
        if not result.success:
            raise RuntimeError(f"migration failed: {result.message}")
        for seed in seeds:
            await seed()
    finally:
        await close_database()
