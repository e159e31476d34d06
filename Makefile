# Quick start: `make serve` and `make test`. Each installs what is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
APT_PACKAGES := slapd ldap-utils libldap2-dev libsasl2-dev python3-venv python3-dev gcc
# python3-ldap: the test of the package installs it as README's "Deployment" does, into a
# venv of Debian's python3; systemd: systemd-analyze checks the unit; openssl: test certs.
# chromium: headless, it renders /api/docs (tests/integration/test_openapi_live.py).
TEST_APT_PACKAGES := mariadb-server postgresql nginx-light python3-ldap systemd openssl \
	chromium

.PHONY: install serve test lint bench bench-replication package system-packages test-system-packages

install: system-packages $(VENV)/.installed

# Install only the Debian packages that are missing (needs root, as on a fresh machine).
system-packages:
	@bash scripts/apt-install.sh $(APT_PACKAGES)

test-system-packages:
	@bash scripts/apt-install.sh $(TEST_APT_PACKAGES)

$(VENV)/.installed: setup.cfg pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

serve: install
	$(VENV)/bin/iredapi-ldap dev

# The linter (ruff, with a complexity limit) and the type checker (mypy, configured in
# pyproject.toml); either failing fails `make test` before any test runs.
lint: install $(VENV)/.test-installed
	$(VENV)/bin/ruff check iredapi_ldap tests bench
	$(VENV)/bin/mypy

test: install test-system-packages $(VENV)/.test-installed lint
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# dist/: the sdist, and the wheel built from it (README, "Deployment").
package: install
	$(VENV)/bin/pip install --quiet --disable-pip-version-check build
	rm -rf dist
	$(VENV)/bin/python -m build --outdir dist .

bench: install
	$(VENV)/bin/python -m bench.run $(BENCH_ARGS)

bench-replication: install
	$(VENV)/bin/python -m bench.replication $(BENCH_ARGS)
