# The course's two commands: `make book` and `make test`. Both create or reuse .venv by themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Two readers' environments that `make test` also runs every notebook in (tests/test_reader_environments.py):
#   .venv-core   `pip install .`: the core dependencies only, at their newest versions (no book/test extras)
#   .venv-colab  Colab's preinstalled versions (envs/colab-versions.txt), the course added the way the
#                notebooks' set-up cell adds it: --no-deps, then only the requirements that are missing.
CORE   := .venv-core
COLAB  := .venv-colab
LIB    := $(sort $(shell find course_lib -name '*.py' -not -path '*/__pycache__/*')) pyproject.toml
READER_KERNELS := $(CURDIR)/$(CORE)/share/jupyter:$(CURDIR)/$(COLAB)/share/jupyter

.PHONY: book test nbval venv reader-envs clean benchmarks

venv: $(STAMP)

# torch is pinned on its own first: 2.13.0 is the CPU wheel these machines carry; any other spec
# would download a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[book,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

$(CORE)/.created: pyproject.toml
	rm -rf $(CORE) && $(PYTHON) -m venv $(CORE)
	$(CORE)/bin/pip install --quiet torch==2.13.0
	$(CORE)/bin/pip install --quiet .
	$(CORE)/bin/python -m ipykernel install --sys-prefix --name course-core --display-name "course (core install)" >/dev/null
	touch $@

$(COLAB)/.created: pyproject.toml envs/colab-versions.txt
	rm -rf $(COLAB) && $(PYTHON) -m venv $(COLAB)
	$(COLAB)/bin/pip install --quiet torch==2.13.0 -r envs/colab-versions.txt
	$(COLAB)/bin/python -m ipykernel install --sys-prefix --name course-colab --display-name "course (Colab versions)" >/dev/null
	touch $@

# The course itself is reinstalled (not editable: as a reader gets it) whenever course_lib changes.
$(CORE)/.installed: $(CORE)/.created $(LIB)
	$(CORE)/bin/pip install --quiet --no-deps --force-reinstall .
	touch $@

$(COLAB)/.installed: $(COLAB)/.created $(LIB)
	$(COLAB)/bin/pip install --quiet --no-deps --force-reinstall .
	missing=$$($(COLAB)/bin/python -c "from course_lib.runtime import missing_requirements as m; print(' '.join(m()))"); \
	  if [ -n "$$missing" ]; then eval $(COLAB)/bin/pip install --quiet -c envs/colab-versions.txt $$missing; fi
	touch $@

reader-envs: $(CORE)/.installed $(COLAB)/.installed

## Build the whole book (standard profile, every notebook executed) into _build/html/index.html
## jupyter-cache keys an execution on the notebook's code only: executions made with another course_lib
## (digest in _build/.jupyter_cache.lib) are dropped first, so the book never shows stale outputs.
## Each notebook prints "Executing notebook" and "Executed notebook in N seconds" as it goes.
book: $(STAMP)
	@mkdir -p _build; digest=$$(cat $(LIB) | sha256sum | cut -d' ' -f1); \
	  if [ -d _build/.jupyter_cache ] && [ "$$(cat _build/.jupyter_cache.lib 2>/dev/null)" != "$$digest" ]; then \
	    echo "course_lib changed since the cached executions: every notebook runs again"; rm -rf _build/.jupyter_cache; \
	  fi; echo "$$digest" > _build/.jupyter_cache.lib
	COURSE_PROFILE=standard COURSE_BOOK_BUILD=1 $(VENV)/bin/jupyter-book build . -W -n --keep-going

## Run every test: unit tests, every notebook in live JupyterLab on the core install (whose saved
## notebooks the quick book is built from), the browser test of the book, and every notebook with
## Colab's versions and every exercise solved. Each notebook is executed twice (tests/executions.py).
## Trained models go to a fresh cache so every run trains from scratch once (both executions share it).
## The three environments are built side by side (-j3: their pip installs wait on the network and the
## disk as much as on the CPU); their time is written to _build/timings/ and printed in pytest's "time per
## stage" table.
test:
	@mkdir -p _build/timings
	@start=$$(date +%s); $(MAKE) --no-print-directory -j3 venv reader-envs; \
	  echo "$$(( $$(date +%s) - start ))" > _build/timings/environments.txt
	rm -rf _build/test-cache
	COURSE_PROFILE=quick COURSE_CACHE_DIR=$(CURDIR)/_build/test-cache JUPYTER_PATH=$(READER_KERNELS) \
	  $(PY) -m pytest --durations=20 tests

## What the course tells maintainers and readers: nbval on the chapters (not part of `make test`, whose
## core-install executions check the same thing once and feed the book).
nbval: $(STAMP) reader-envs
	COURSE_PROFILE=quick JUPYTER_PATH=$(READER_KERNELS) \
	  $(PY) -m pytest --nbval-lax --nbval-kernel-name=course-core --nbval-cell-timeout=600 chapters

benchmarks: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf _build $(CORE) $(COLAB)
