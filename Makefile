# `make check` is exactly what CI runs after installing the package with its test extras.
.PHONY: check lint test test-deps

check: lint test

lint:
	ruff check seeknal tests bench
	ruff format --check seeknal
	mypy seeknal

# Chromium for the HTML report tests, a PostgreSQL server for the warehouse tests and Java for
# the Spark tests: installed when possible, else explained (see the scripts)
test-deps:
	@sh tests/tools/ensure-chromium
	@sh tests/tools/ensure-postgresql
	@sh tests/tools/ensure-java

test: test-deps
	python -m pytest -q tests
