#!/usr/bin/env bash
# Run every check: lint, types, the JS client, the docs, then pytest.
# Installs what it needs first (scripts/bootstrap.sh --full).
#
# Usage: bash scripts/test.sh [PYTEST_ARGS...]
#
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not e2e"`.
# pytest runs last, so its summary line is the last line printed.
# CI is left as the caller set it (the tests read it).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() {
    printf '\n==> %s\n' "$*"
}

step "bootstrap"
bash scripts/bootstrap.sh --full

# Python lint and types -------------------------------------------------------

paths=()
for path in flask_realtime tests example_app benchmarks; do
    if [ -e "$path" ]; then
        paths+=("$path")
    fi
done

if [ "${#paths[@]}" -gt 0 ]; then
    step "ruff check ${paths[*]}"
    # --no-fix: pyproject sets fix = true for editors; here we only report.
    .venv/bin/ruff check --no-fix "${paths[@]}"

    step "ruff format --check ${paths[*]}"
    .venv/bin/ruff format --check "${paths[@]}"
fi

step "mypy"
.venv/bin/mypy

# JavaScript client -----------------------------------------------------------

if [ -f package.json ]; then
    step "npm run lint"
    npm run lint

    step "npm test"
    npm test

    step "npm run build"
    npm run build

    # The bundles and the TypeScript declarations (js/types) that
    # `npm run build` writes must be the committed ones: none changed, none
    # deleted, none new and untracked.
    built=(flask_realtime/static js/types)
    step "built files match the committed ones (${built[*]})"
    if command -v git >/dev/null 2>&1 \
        && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        untracked=$(git ls-files --others --exclude-standard -- "${built[@]}")
        if ! git diff --exit-code --stat -- "${built[@]}" || [ -n "$untracked" ]; then
            if [ -n "$untracked" ]; then
                printf 'not committed:\n%s\n' "$untracked" >&2
            fi
            echo "${built[*]} differ from the committed build:" \
                "run 'npm run build' and commit the result." >&2
            exit 1
        fi
    else
        echo "not a git checkout: skipping the committed-bundle check"
    fi
fi

# Docs ------------------------------------------------------------------------

step "sphinx-build -W docs"
.venv/bin/sphinx-build -W --keep-going -b dirhtml docs docs/_build/dirhtml -q

# Python tests (last) ---------------------------------------------------------

step "pytest $*"
exec .venv/bin/python -m pytest -p no:cacheprovider -ra "$@"
