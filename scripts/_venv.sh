# Sourced by scripts/run.sh and scripts/test.sh: create .venv and install the project into it.
# Re-installs only when pyproject.toml changed since the last install (or the extras differ).

ensure_venv() {
    local extras="$1"
    local python="${PYTHON:-python3}"
    if ! command -v "$python" >/dev/null 2>&1; then
        echo "error: $python not found; install Python 3.11 or newer (apt-get install python3)" >&2
        exit 1
    fi
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "error: Python 3.11 or newer is needed; $python is $("$python" --version 2>&1)" >&2
        exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        if ! "$python" -m venv .venv >/dev/null 2>&1; then
            # Debian splits venv out of the interpreter package.
            rm -rf .venv
            as_root apt-get install -y --no-install-recommends python3-venv
            "$python" -m venv .venv
        fi
    fi
    local stamp=".venv/.installed"
    local want
    want="$(sha256sum pyproject.toml | cut -d' ' -f1) [$extras]"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "Installing complaints-bot${extras:+ with [$extras]} into .venv ..."
        .venv/bin/python -m pip install --quiet --upgrade pip
        .venv/bin/python -m pip install --quiet --editable ".${extras:+[$extras]}"
        echo "$want" > "$stamp"
    fi
}

# Run a command as root: directly when we are root, through sudo when it needs no password.
as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo "$@"
    else
        echo "note: cannot run '$*' without root; skipping" >&2
        return 1
    fi
}
