# The few verbs a person types. `make help` lists them.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif

CONSOLE_INSTALLED := console/node_modules/.pms-installed
CONSOLE_BUILT := console/dist/index.html
CONSOLE_SOURCES := $(shell find console/src console/public -type f 2>/dev/null) \
	console/index.html console/vite.config.ts console/tsconfig.json

.DEFAULT_GOAL := help
.PHONY: help up down status test lint unit integration e2e api-fuzz bench proto sync ensure-uv browser \
	console console-client console-test containers-test container-engine

help: ## List the verbs
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

up: sync $(CONSOLE_BUILT) ## Install what is needed, build the web console if its sources changed, start PostgreSQL, Kafka and all services (Ctrl-C stops all)
	$(UV) run pms up

down: ## Stop a running `make up`, and the PostgreSQL and Kafka that `pms infra up` left running
	$(UV) run pms down
	$(UV) run pms infra down

status: ## Each service's readiness and each dependency's state
	$(UV) run pms status

test: sync lint unit console-test integration ## Lint, type-check, unit, integration and end-to-end tests (real PostgreSQL and Kafka of their own; the development data is left alone)

lint: sync $(CONSOLE_INSTALLED) ## ruff, mypy --strict, import contracts, generated code, Dockerfile/Compose/Kubernetes checks
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run lint-imports
	$(UV) run pms proto --check
	$(UV) run python -m pms_cli.console_client --check
	$(UV) run python -m pms_cli.deploy_check

unit: sync ## Unit tests (no servers needed)
	$(UV) run pytest -m "not integration and not e2e"

# `pms test`: a platform of the test run's own (state folder .pms/test emptied first, its own
# PostgreSQL and Kafka, every port +10000), so the development data stays as it was.
integration: sync ## Integration, then end-to-end tests, on their own PostgreSQL, Kafka and ports (ARGS=selection)
	$(UV) run pms test -- pytest -m "integration or e2e" $(ARGS)

e2e: sync ## Only the end-to-end suite (the whole platform through the gateway; ARGS=selection)
	$(UV) run pms test -- pytest -m e2e $(ARGS)

# The docs tests drive Debian's Chromium (tests/e2e/test_e2e_docs_browser.py).
integration e2e: browser

# Podman, not Docker: no engine runs here, and no registry answers (base images are built
# from Debian's packages, deploy/images/). Ports 24000-24005: clear of make up's and make test's.
containers-test: sync browser container-engine $(CONSOLE_BUILT) ## Build every image with podman, run the Compose stack and the end-to-end suite against it, remove it all
	$(UV) run pms containers test

CONTAINER_TOOLS := podman runc podman-compose debootstrap buildah
container-engine: ## Debian's podman, runc, podman-compose, debootstrap and buildah (apt-get install, once)
	@missing=$$(for tool in $(CONTAINER_TOOLS); do \
		command -v $$tool >/dev/null 2>&1 || PATH=$$PATH:/usr/sbin command -v $$tool >/dev/null 2>&1 || echo $$tool; done); \
	test -z "$$missing" || { echo "Installing Debian's $(CONTAINER_TOOLS) for make containers-test..."; \
		$(APT_GET) update -qq && $(APT_GET) install -y -qq $(CONTAINER_TOOLS) >/dev/null; } \
		|| { echo "make container-engine: could not install $(CONTAINER_TOOLS) (apt-get install): make containers-test needs them" >&2; exit 1; }

api-fuzz: sync ## Fuzz every operation of every service through the gateway (schemathesis, all checks; EXAMPLES=200 SEED=random)
	PMS_API_FUZZ_MAX_EXAMPLES=$(or $(EXAMPLES),200) PMS_API_FUZZ_SEED=$(or $(SEED),random) \
		PMS_API_FUZZ_REPORTS=.pms/api-fuzz $(UV) run pms infra run -- pytest tests/api_fuzz -q

bench: sync ## Benchmark the platform (starts it if needed); results in bench/results/ (ARGS=--quick)
	$(UV) run pms bench $(ARGS)

proto: sync ## Regenerate libs/contracts from proto/
	$(UV) run pms proto

# The web console (console/, served by the gateway at /): `npm ci` when package-lock.json
# changed since the last install, `vite build` when a source changed (for `make up`).
$(CONSOLE_INSTALLED): console/package-lock.json
	cd console && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CONSOLE_BUILT): $(CONSOLE_INSTALLED) $(CONSOLE_SOURCES)
	cd console && npm run --silent build -- --logLevel warn && node scripts/bundle-size.mjs

console: $(CONSOLE_INSTALLED) ## Build the web console into console/dist (and report its compressed JavaScript)
	cd console && npm run --silent build -- --logLevel warn && node scripts/bundle-size.mjs

console-client: sync $(CONSOLE_INSTALLED) ## Regenerate the console's API client from the services' OpenAPI documents
	$(UV) run python -m pms_cli.console_client

console-test: $(CONSOLE_BUILT) ## The console's build (within its size budget), ESLint, tsc --noEmit and Vitest component tests
	cd console && npm run --silent lint && npm run --silent typecheck && npx vitest run --reporter=dot

sync: ensure-uv
	$(UV) sync --locked --quiet

ensure-uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| { echo "Installing uv from PyPI..."; python3 -m pip install --quiet uv; }

CHROMIUM := /usr/bin/chromium
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get
browser: ## Debian's Chromium for the browser tests (apt-get install chromium, once)
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests..."; \
		$(APT_GET) update -qq && $(APT_GET) install -y -qq chromium >/dev/null && test -x $(CHROMIUM); } \
		|| { echo "make browser: could not install Debian's chromium (apt-get install chromium): the browser tests need $(CHROMIUM)" >&2; exit 1; }
