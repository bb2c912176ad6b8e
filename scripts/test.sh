#!/usr/bin/env bash
# Sets up and runs the whole test suite. SQLite by default; DATABASE_URL=postgresql://... for PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q "$@"
