# Two commands do everything (see README):
#   make report   install what is missing, run every notebook as a script, export HTML to reports/
#   make test     install what is missing, run the test suite
PYTHON ?= python3
ARGS ?=

.PHONY: setup report serve test bench lint

setup:
	@PYTHON=$(PYTHON) bash scripts/setup.sh

report: setup
	$(PYTHON) -m pomodoro_core.report.suite $(ARGS)

serve:
	$(PYTHON) -m pomodoro_core.report.suite serve

test: setup
	$(PYTHON) -m pytest -q

bench: setup
	$(PYTHON) benchmarks/bench_noise.py
	$(PYTHON) benchmarks/bench_analyses.py
	$(PYTHON) benchmarks/bench_training.py
	$(PYTHON) benchmarks/bench_large.py
	$(PYTHON) benchmarks/bench_speed.py
	$(PYTHON) benchmarks/bench_compile.py
	$(PYTHON) benchmarks/bench_notebook.py

# lint fixes what it can: ruff, then marimo's canonical cell form (signatures, returns), then checks the layers
lint: setup
	$(PYTHON) -m ruff check --fix .
	$(PYTHON) -m ruff format .
	$(PYTHON) -m marimo check --fix notebooks/*.py
	lint-imports
