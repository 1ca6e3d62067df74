# Everyday commands. The README's quick start uses scripts/run.sh and scripts/test.sh directly.
.PHONY: install lint format test run clean
SHELL := /bin/bash

install:  ## create .venv and install the project with its development tools
	source scripts/_venv.sh && ensure_venv dev

lint: install  ## ruff (lint and format check) and mypy strict
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

format: install  ## apply ruff's fixes and formatting
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

test:  ## install test servers' packages, lint, type-check and run every test
	./scripts/test.sh

run:  ## install and start the bot on SQLite
	./scripts/run.sh

clean:  ## remove caches (keeps .venv and data/)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist *.egg-info
