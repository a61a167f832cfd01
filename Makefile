# The course's two commands: `make book` and `make test`. Both create or reuse .venv by themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: book test venv clean benchmarks

venv: $(STAMP)

# torch is pinned on its own first: 2.13.0 is the CPU wheel these machines carry; any other spec
# would download a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[book,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

## Build the whole book (standard profile, every notebook executed) into _build/html/index.html
book: $(STAMP)
	COURSE_PROFILE=standard $(VENV)/bin/jupyter-book build . -W -n --keep-going

## Run every test: unit tests, nbval (quick profile), the book build and the browser test.
## Trained models go to a fresh cache so every run trains from scratch once (nbval and the book share it).
test: $(STAMP)
	rm -rf _build/test-cache
	COURSE_PROFILE=quick COURSE_CACHE_DIR=$(CURDIR)/_build/test-cache \
	  $(PY) -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=120 --durations=15 tests chapters

benchmarks: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf _build
