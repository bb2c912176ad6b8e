"""The `remotecase` command: run, migrate, seed-demo, scheduler, audit, sms, keys, face evaluate."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")

# Commands that read the settings (the database, keys, ports); the others are offline tools.
_NEEDS_SETTINGS = {"run", "migrate", "seed-demo", "scheduler", "audit", "sms"}


def _run(args) -> int:
    from backend.settings import get_settings

    settings = get_settings()
    host, port = args.host or settings.host, args.port or settings.port
    workers = args.workers or settings.workers
    os.environ["WEB_WORKERS"] = str(workers)  # the worker processes read their settings from the environment
    print(f"remotecase on http://{host}:{port}  (API docs: http://{host}:{port}/schema)", flush=True)
    if args.with_scheduler:  # one scheduler for the server, however many workers: a child of this process
        from backend.jobs import embedded_scheduler

        every = settings.scheduler_sweep_seconds
        print(f"scheduler running: sweeps and reminders every {every} s, SMS delivery every 30 s", flush=True)
        with embedded_scheduler():
            return _serve(settings, host, port, workers)
    return _serve(settings, host, port, workers)


def _serve(settings, host: str, port: int, workers: int) -> int:
    from backend.app import create_app

    # backend.core.logging configures logging, and redacts query strings and secrets in every line
    # (uvicorn logs a websocket's path with its query). uvicorn's own access log stays off: the request-id
    # middleware writes one line per request, with the path and never the query.
    quiet = {"log_config": None, "access_log": False}
    options = {"host": host, "port": port, **quiet}
    if workers > 1:  # each worker process builds its own app from the same settings
        from backend.web.workers import balanced_workers_supported, run_workers, serve_uvicorn_workers

        if balanced_workers_supported():
            return run_workers(host, port, workers, quiet)
        return serve_uvicorn_workers(workers, options)
    from backend.web.workers import serve  # SIGTERM: live sockets close with 1001, a bounded grace

    return serve(create_app(settings), options)


def _migrate(args) -> int:
    from backend.domains import migrate

    asyncio.run(migrate())
    return 0


def _seed_demo(args) -> int:
    from backend.demo import seed_demo

    logins = asyncio.run(seed_demo())
    print(json.dumps(logins, indent=2, ensure_ascii=False))
    return 0


def _scheduler(args) -> int:
    from backend.core.logging import configure_logging
    from backend.jobs import run_scheduler
    from backend.settings import get_settings

    configure_logging(get_settings().log_level)
    asyncio.run(run_scheduler())
    return 0


def _audit_verify(args) -> int:
    from backend.audit.services import verify_chain
    from backend.db.engine import close_database, open_database

    async def go():
        await open_database()
        try:
            return await verify_chain()
        finally:
            await close_database()

    result = asyncio.run(go())
    print(json.dumps(result.__dict__))
    if not result.ok:
        print(f"audit chain broken at row {result.first_broken_seq}: {result.reason}", file=sys.stderr)
    return 0 if result.ok else 1


def _sms_last(args) -> int:
    """The last message the console SMS sender recorded for a number: local runs read login codes here,
    since the log never shows a message body."""
    from backend.db.engine import close_database, open_database
    from backend.ops import store

    phone = "".join(args.phone.split())

    async def go():
        await open_database()
        try:
            return await store.last_sms_to(phone)
        finally:
            await close_database()

    row = asyncio.run(go())
    if row is None:
        print(f"no SMS recorded for {phone}", file=sys.stderr)
        return 1
    print(f"{row['created_at'].isoformat()}  {row['body']}")
    return 0


def _keys_list(args) -> int:
    """Key ids only, never key material."""
    from backend.settings import get_settings

    ring = get_settings().keys
    for key in ring.all():
        marks = [m for m, on in (("current", key is ring.current), ("legacy", key is ring.legacy)) if on]
        print(f"{key.kid}  {' '.join(marks)}".rstrip())
    return 0


def _keys_rotate(args) -> int:
    """A new key. In development (no SECRET_KEYS) it joins var/keys.json and is current from the next start;
    always printed (stdout, never a log) as the SECRET_KEYS entry that shared settings need."""
    from backend.core.keyring import LocalKeyStore, env_entry, new_key
    from backend.settings import load_settings

    key = new_key()
    shared = os.environ.get("REMOTECASE_ENV", "").strip() == "production" or os.environ.get("SECRET_KEYS")
    if shared:
        where = "Put it first in SECRET_KEYS on every host (keep the older entries and SECRET_KEY"
        print(f"{where}, so what they signed still verifies), then restart them.", file=sys.stderr)
    else:
        settings = load_settings()  # the legacy key exists (var/secret.key) before a newer one is added
        store = LocalKeyStore(settings.var_dir)
        store.add(key)
        print(f"Key {key.kid} added to {store.path}; it signs from the next start. Older keys verify.")
        print("For shared settings, the SECRET_KEYS entry:", file=sys.stderr)
    print(env_entry(key))
    return 0


def _totp_now(args) -> int:
    import pyotp

    print(pyotp.TOTP(args.secret).now())
    return 0


def _face_evaluate(args, rest: list[str]) -> int:
    from backend.face.evaluate import main as evaluate

    return evaluate(rest)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["face", "evaluate"]:
        return _face_evaluate(None, argv[2:])
    parser = argparse.ArgumentParser(prog="remotecase")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve the API and console")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.add_argument("--workers", type=int, help="server processes (default WEB_WORKERS or 1)")
    run.add_argument(
        "--with-scheduler",
        action="store_true",
        help="also run the scheduler (sweeps, reminders, SMS delivery) as one child process",
    )
    run.set_defaults(func=_run)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_migrate)
    sub.add_parser("seed-demo", help="create demo agencies and users; print logins").set_defaults(
        func=_seed_demo
    )
    sub.add_parser("scheduler", help="run reminder and sweep jobs").set_defaults(func=_scheduler)
    audit = sub.add_parser("audit", help="audit chain tools").add_subparsers(
        dest="audit_command", required=True
    )
    audit.add_parser("verify", help="walk the chain; exit 1 naming the first broken row").set_defaults(
        func=_audit_verify
    )
    sms = sub.add_parser("sms", help="messages the console SMS sender recorded").add_subparsers(
        dest="sms_command", required=True
    )
    last = sms.add_parser("last", help="print the last SMS recorded for a phone number (login codes)")
    last.add_argument("phone", help="E.164 number, e.g. +8613800138000")
    last.set_defaults(func=_sms_last)
    keys = sub.add_parser("keys", help="the key ring: signing and encryption keys").add_subparsers(
        dest="keys_command", required=True
    )
    keys.add_parser("list", help="key ids, and which one is current (never key material)").set_defaults(
        func=_keys_list
    )
    keys.add_parser(
        "rotate", help="a new current key (development: var/keys.json); prints its SECRET_KEYS entry"
    ).set_defaults(func=_keys_rotate)
    totp = sub.add_parser(
        "totp-now", help="print the current authenticator code for a TOTP secret (demo logins)"
    )
    totp.add_argument("secret")
    totp.set_defaults(func=_totp_now)
    face = sub.add_parser("face", help="face verification tools").add_subparsers(
        dest="face_command", required=True
    )
    face.add_parser("evaluate", help="accuracy report: remotecase face evaluate --faces DIR --split eval")
    args = parser.parse_args(argv)
    if args.command in _NEEDS_SETTINGS or getattr(args, "keys_command", None) == "list":
        from backend.settings import SettingsError, get_settings

        try:  # checked up front: a bad setting is one line per variable, not a traceback from deep inside
            get_settings()
        except SettingsError as exc:
            print(f"remotecase: invalid settings (see README, Settings):\n{exc}", file=sys.stderr)
            return 2
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
