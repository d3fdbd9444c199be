# Every target sets up .venv on first use, so each works on a fresh clone.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Numba's cache does not notice when a kernel's callee in another file changes,
# so the cache folder is keyed on the kernels' source.
KERNEL_HASH := $(shell cat alignkit/kernels/_numba/*.py | sha1sum | cut -c1-12)
export NUMBA_CACHE_DIR := $(CURDIR)/build/numba-cache/$(KERNEL_HASH)
export MPLBACKEND := Agg

.PHONY: install demo test test-slow lint docs bench bench-ctw bench-torch bench-parallel bench-search bench-streams gpu-check repro-stn repro-glimpse clean

$(STAMP): pyproject.toml requirements/constraints.txt plugins/shapedtw/pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements/constraints.txt -e ".[dev,plot,docs,dask,bench,torch]" -e plugins/shapedtw
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/alignkit demo --plot alignment.png

# The everyday suite skips the reproductions marked @pytest.mark.slow; test-slow runs only them.
# --dist loadfile: a test file runs in one worker, so a kernel that only one file uses is
# compiled once, not in both (with a cold Numba cache, as in CI, this and the leaner elastic
# row kernels took the suite from 10 min 33 s to 7 min 21 s).
test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile -q -m "not slow"

test-slow: $(STAMP)
	$(PY) -m pytest -n 2 -q -m slow

lint: $(STAMP)
	$(PY) -m ruff check alignkit plugins tests examples benchmarks conftest.py docs/conf.py
	$(PY) -m ruff format --check alignkit plugins tests examples benchmarks conftest.py docs/conf.py

docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html

bench: $(STAMP)
	$(PY) benchmarks/bench_dtw.py

bench-ctw: $(STAMP)
	$(PY) benchmarks/bench_ctw.py

bench-torch: $(STAMP)
	$(PY) benchmarks/bench_torch.py

bench-parallel: $(STAMP)
	$(PY) benchmarks/bench_parallel.py --contention

bench-search: $(STAMP)
	$(PY) benchmarks/bench_search.py

bench-streams: $(STAMP)
	$(PY) benchmarks/bench_streams.py

gpu-check: $(STAMP)
	$(PY) benchmarks/gpu_check.py --device auto

repro-stn: $(STAMP)
	$(PY) benchmarks/repro_stn.py

repro-glimpse: $(STAMP)
	$(PY) benchmarks/repro_glimpse.py

clean:
	rm -rf $(VENV) build docs/_build docs/auto_examples docs/generated
