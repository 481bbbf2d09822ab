#!/usr/bin/env bash
# Install what flask-realtime needs into .venv (and, with --full, the tools the
# test suite needs). Safe to run again: each step is skipped or is a no-op when
# its result is already there.
#
# Usage: scripts/bootstrap.sh [--full]
#
#   (default)  .venv with the package installed editable, plus the redis extra.
#   --full     also the test, e2e and docs extras, npm packages (when
#              package.json exists), and Debian's chromium and redis-server.
#
# Never runs `playwright install`: browser downloads are not possible on these
# machines, so the e2e tests drive Debian's /usr/bin/chromium instead.
set -euo pipefail

full=0
for arg in "$@"; do
    case "$arg" in
        --full) full=1 ;;
        -h | --help)
            sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "bootstrap: unknown argument: $arg (usage: $0 [--full])" >&2
            exit 2
            ;;
    esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() {
    echo "bootstrap: $*" >&2
}

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        env DEBIAN_FRONTEND=noninteractive "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo env DEBIAN_FRONTEND=noninteractive "$@"
    else
        log "need root (or sudo) to run: $*"
        exit 1
    fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        log "apt-get update"
        as_root apt-get update -q >/dev/null
        apt_updated=1
    fi
    log "apt-get install $*"
    as_root apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

# Python virtual environment ------------------------------------------------

if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    log "creating .venv"
    if ! python3 -m venv .venv; then
        # Debian splits ensurepip out of the interpreter package.
        if python3 -c "import ensurepip" >/dev/null 2>&1; then
            log "python3 -m venv failed"
            exit 1
        fi
        apt_install python3-venv
        python3 -m venv .venv
    fi
fi

# Python packages -------------------------------------------------------------

if [ "$full" -eq 1 ]; then
    extras="redis,test,e2e,docs"
else
    extras="redis"
fi
log "pip install -e .[$extras]"
.venv/bin/python -m pip install -q -e ".[$extras]"

if [ "$full" -eq 0 ]; then
    log "done"
    exit 0
fi

# npm packages ----------------------------------------------------------------

if [ -f package.json ]; then
    if ! command -v npm >/dev/null 2>&1; then
        log "package.json exists but npm is not installed (Node 20 is needed)"
        exit 1
    fi
    if [ ! -f package-lock.json ]; then
        log "npm install (no package-lock.json yet)"
        npm install --no-audit --no-fund --loglevel=error >&2
    elif [ ! -d node_modules ] \
        || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        log "npm ci"
        npm ci --no-audit --no-fund --loglevel=error >&2
    else
        log "node_modules is up to date"
    fi
fi

# Debian packages -------------------------------------------------------------

debs=()
if [ ! -x /usr/bin/chromium ]; then
    debs+=(chromium)
fi
if ! command -v redis-server >/dev/null 2>&1; then
    debs+=(redis-server)
fi
if [ "${#debs[@]}" -gt 0 ]; then
    apt_install "${debs[@]}"
fi

log "done"
