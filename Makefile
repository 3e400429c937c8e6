# Shortcuts for the scripts in scripts/ (which work without make).
.PHONY: run test lint check bench reliability

run:
	scripts/run

test:
	scripts/test

lint:
	scripts/setup dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/hadolint deploy/Dockerfile
	.venv/bin/mypy

check: lint test

bench:
	.venv/bin/python -m benchmarks.bench_planning --caregivers 100000
	.venv/bin/python -m benchmarks.bench_sending
	.venv/bin/python -m benchmarks.bench_inbound

# The reliability proofs at the issue's full scale (minutes; figures in .reliability/).
reliability:
	SMS_TIPS_RELIABILITY=long SMS_TIPS_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -n 0 -s tests/reliability tests/texting/test_parsers_fuzz.py -q
