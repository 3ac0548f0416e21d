# The two commands: `make run` (the app, with demo data) and `make test` (lint and the whole suite).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Every step sees it: the dev settings build SITE_URL (the links in messages) from it.
export PORT

.PHONY: run test lint pytest bench faults cluster peer clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Web server and django-q2 worker side by side on SQLite; Ctrl-C (or SIGTERM) stops both, once
# each: bin/run supervises them (a shell `trap 'kill 0'` signalled everything twice).
run: $(VENV)/.installed
	$(PY) manage.py migrate --no-input
	$(PY) manage.py setup_schedules
	$(PY) manage.py seed_demo
	@echo "RealtyCRM: http://127.0.0.1:$(PORT)/  (admin: /admin/; Ctrl-C stops web and worker)"
	@PORT=$(PORT) $(PY) bin/run

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

pytest: $(VENV)/.installed
	$(PY) manage.py makemigrations --check --dry-run --settings=realtycrm.settings.test
	$(VENV)/bin/pytest

test: lint pytest

# Benchmarks print numbers (never asserted in tests). Each loads its own databases: the local
# PostgreSQL (realtycrm_*_bench) and temporary SQLite files; docs/*.md hold the results.
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
bench: $(VENV)/.installed
	$(PY) bench/speed_to_lead.py
	$(PY) bench/sequences_dispatch.py
	$(PY) bench/intake_queries.py
	$(PY) bench/dashboard.py
	$(PY) bench/reports_matrix.py --postgres $(BENCH_PG)/realtycrm_reports_bench
	$(PY) bench/reports_matrix.py --sqlite /tmp/realtycrm_reports_bench.sqlite3
	$(PY) bench/burst.py --postgres --sqlite
	$(PY) bench/process_memory.py

# The fault harness (bench/faults.py; docs/reliability.md): gunicorn, two qclusters, the real
# SDKs against a local fake provider, SIGKILLs, a provider outage and one PostgreSQL restart, on
# a fresh realtycrm_faults database. About 6 minutes; never part of `make test`.
FAULTS_ARGS ?=
faults: $(VENV)/.installed
	$(PY) bench/faults.py $(FAULTS_ARGS)

# The several-machines topology on this one (bin/cluster.py; docs/deployment.md): nginx on
# PROXY_PORT in front of two gunicorns, two qclusters (one scheduler), production settings on
# DATABASE_URL (PostgreSQL) and REDIS_URL. Ctrl-C stops everything, once.
cluster: $(VENV)/.installed
	$(PY) bin/cluster.py

# RealtyCRM against the open-source DjangoCRM in one run (bench/peer_compare.py;
# docs/performance.md): the peer is checked out and installed once in PEER, outside this
# repository (the script's docstring has the three steps). About 15 minutes.
PEER ?= /work/peer
peer: $(VENV)/.installed
	$(PY) bench/peer_compare.py --peer $(PEER)

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles .pytest_cache .ruff_cache
