# `make check` is exactly what CI runs after installing the package with its test extras.
.PHONY: check lint test

check: lint test

lint:
	ruff check seeknal tests bench
	ruff format --check seeknal
	mypy seeknal

test:
	python -m pytest -q tests
