#!/usr/bin/env bash
# Run the example app on the in-memory backend (no Redis, no browsers needed).
#
# Usage: scripts/run-example.sh [FLASK_RUN_ARGS...]
#
# HOST and PORT choose the address (default 127.0.0.1:5000); extra arguments
# go to `flask run`, e.g. `scripts/run-example.sh --debug`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh

exec .venv/bin/flask --app example_app run \
    --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}" "$@"
