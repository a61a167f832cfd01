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
LIB    := $(shell find course_lib -name '*.py' -not -path '*/__pycache__/*') pyproject.toml
READER_KERNELS := $(CURDIR)/$(CORE)/share/jupyter:$(CURDIR)/$(COLAB)/share/jupyter

.PHONY: book test venv reader-envs clean benchmarks

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
book: $(STAMP)
	COURSE_PROFILE=standard COURSE_BOOK_BUILD=1 $(VENV)/bin/jupyter-book build . -W -n --keep-going

## Run every test: unit tests, every notebook on the core install (nbval) and with Colab's versions,
## the book build, the browser tests of the book and of live JupyterLab widgets.
## Trained models go to a fresh cache so every run trains from scratch once (all executions share it).
## The cell timeout guards against hangs, not budgets (benchmarks/notebook_times.py measures those): on a slow
## 2-core machine notebook 4.3's ablation cell alone took 121-233 s, over the old 120 s guard.
test: $(STAMP) reader-envs
	rm -rf _build/test-cache
	COURSE_PROFILE=quick COURSE_CACHE_DIR=$(CURDIR)/_build/test-cache JUPYTER_PATH=$(READER_KERNELS) \
	  $(PY) -m pytest --nbval-lax --nbval-kernel-name=course-core --nbval-cell-timeout=600 --durations=20 tests chapters

benchmarks: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf _build $(CORE) $(COLAB)
