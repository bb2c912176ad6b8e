#!/usr/bin/env bash
# Quick start: set up, migrate the embedded SQLite database under ./var, seed demo data, print logins, serve
# with the scheduler (missed-window sweeps, reminders, SMS delivery) running alongside the server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PICCOLO_CONF=backend.piccolo_conf
.venv/bin/remotecase migrate >/dev/null
.venv/bin/remotecase seed-demo >/dev/null
.venv/bin/python - <<'PY'
import json, os
host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
logins = json.load(open(os.path.join(os.environ.get("REMOTECASE_VAR_DIR", "var"), "demo-logins.json")))
print(f"\nremotecase demo\n  API docs (OpenAPI): http://{host}:{port}/schema\n  health:             http://{host}:{port}/health")
print("\nStaff (console API /api/v1; second factor: `.venv/bin/remotecase totp-now SECRET`):")
for s in logins["staff"]:
    print(f"  {s['username']:<12} {s['role']:<20} password {s['password']:<18} totp secret {s['totp_secret']}")
print("\nPhone app (/m/v1): log in with a one-time code; the console SMS sender records it (never in the log):")
print("  read it with `.venv/bin/remotecase sms last PHONE`")
for p in logins["phone"]:
    print(f"  {p['phone']}  {p['role']}")
sweep = os.environ.get("SCHEDULER_SWEEP_SECONDS", "300")
print(f"\nScheduler: running with the server (missed windows, reminders every {sweep} s; SMS delivery every 30 s)")
print()
PY
exec .venv/bin/remotecase run --with-scheduler
