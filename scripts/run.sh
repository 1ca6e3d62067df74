#!/usr/bin/env bash
# Quick start, command 1: install everything into .venv and start the bot on its embedded
# default (SQLite under ./data) with a chat in this terminal; Telegram and email start when
# configured (see .env.example). Type /quit to stop. Arguments are passed to complaints-bot;
# with none it runs `complaints-bot run --chat`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/_venv.sh
. scripts/_venv.sh
ensure_venv ""
if [ "$#" -eq 0 ]; then
    set -- run --chat
fi
exec .venv/bin/complaints-bot "$@"
