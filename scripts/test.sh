#!/usr/bin/env bash
# Quick start, command 2: install what the tests need, then lint, type-check and run the whole
# suite. The test servers (a private PostgreSQL cluster, and later Dovecot and aiosmtpd) are
# started by the test fixtures on 127.0.0.1 and stopped afterwards; this script installs the
# Debian packages they come from when they are missing. Arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/_venv.sh
. scripts/_venv.sh

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing Debian packages: ${missing[*]} ..."
    if as_root apt-get update -qq; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    else
        echo "note: without ${missing[*]} the tests that need them are skipped (failed under CI)" >&2
    fi
fi

ensure_venv dev

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy (strict)"
.venv/bin/mypy
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
