# Deep Learning for Image Generation and Restoration: the course's commands.
#   make course   set up, execute every notebook at BUDGET (default cpu) into build/, render HTML
#   make test     set up, run the unit tests, then execute every notebook at the smoke budget
#                 (compared by nbval) and every notebook with a DATASET parameter on Fashion-MNIST
#   make course-fashion  set up, execute the notebooks with a DATASET parameter on Fashion-MNIST at BUDGET
#   make lab      set up and start JupyterLab on the notebooks
#   make check-html  (maintainers) open the rendered course in headless Chromium and check every page
#   make versions    (maintainers) run notebooks 00, 03, 09 on the oldest and newest TensorFlow/Keras
# Everything installs into .venv/ from the package registries; nothing else is touched.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUDGET ?= cpu
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
# the notebooks whose parameters cell has DATASET (they run on Fashion-MNIST too)
FASHION_NOTEBOOKS := $(shell grep -l '"DATASET = ' $(NOTEBOOKS))

# TensorFlow's start-up banners would otherwise land in cell outputs (and break nbval).
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# training checkpoints of notebook runs stay inside the checkout (make clean removes them)
export COURSE_WORKDIR ?= $(CURDIR)/build/work

.PHONY: setup course course-fashion test lab check-html versions fashion-mnist lock strip golden clean

# Python 3.11+ installs the exact versions CI uses; 3.10 the ranges from pyproject.toml.
$(VENV)/.installed: pyproject.toml requirements-lock.txt
	$(PYTHON) -c "import sys; assert sys.version_info >= (3, 10), 'Python 3.10 or newer is needed'"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	if $(BIN)/python -c "import sys; sys.exit(sys.version_info < (3, 11))"; then \
	  $(BIN)/python -m pip install --quiet -r requirements-lock.txt && \
	  $(BIN)/python -m pip install --quiet --no-deps -e . ; \
	else \
	  $(BIN)/python -m pip install --quiet -e ".[tensorflow,dev]" ; \
	fi
	touch $@

setup: $(VENV)/.installed fashion-mnist

# Fashion-MNIST's IDX files from Debian's package dataset-fashion-mnist, unpacked into
# data/external/ (ignored by git). Best effort: without dpkg/apt the course falls back to
# the Keras cache or download, and notebooks say when Fashion-MNIST is unavailable.
fashion-mnist: data/external/fashion-mnist/.complete
data/external/fashion-mnist/.complete:
	@mkdir -p build/deb data/external
	@deb=$$(ls ../shared/datasets/dataset-fashion-mnist_*.deb 2>/dev/null | head -1); \
	if [ -z "$$deb" ] && command -v apt-get >/dev/null; then \
	  (cd build/deb && (apt-get download -q dataset-fashion-mnist >/dev/null 2>&1 || \
	    { [ "$$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 && apt-get download -q dataset-fashion-mnist >/dev/null 2>&1; })); \
	  deb=$$(ls build/deb/dataset-fashion-mnist_*.deb 2>/dev/null | head -1); \
	fi; \
	if [ -n "$$deb" ] && command -v dpkg-deb >/dev/null; then \
	  dpkg-deb -x "$$deb" build/deb/root && rm -rf data/external/fashion-mnist && \
	  cp -r build/deb/root/usr/share/datasets/fashion-mnist data/external/fashion-mnist && \
	  touch $@ && echo "Fashion-MNIST unpacked into data/external/fashion-mnist from $$deb"; \
	else \
	  echo "Fashion-MNIST: Debian's package is not available here; the course will use the Keras cache or download."; \
	fi

course: setup
	$(BIN)/python scripts/run_notebooks.py --budget $(BUDGET) --output build/$(BUDGET) $(NOTEBOOKS)
	$(BIN)/python scripts/render_course.py --executed build/$(BUDGET) --output build/html
	@echo "Open build/html/index.html in a browser."

course-fashion: setup
	$(BIN)/python scripts/run_notebooks.py --budget $(BUDGET) --dataset fashion_mnist \
	  --output build/$(BUDGET)-fashion_mnist $(FASHION_NOTEBOOKS)

# oneDNN's CPU kernels make convolutional training 1.5-1.8x faster, but TensorFlow warns that
# they change round-off (other computation orders), so only the nbval-compared test run turns them off.
test: export TF_ENABLE_ONEDNN_OPTS := 0
test: setup
	$(BIN)/python -m pytest tests -q --ignore=tests/notebooks
	$(BIN)/python scripts/run_notebooks.py --budget smoke --prepare-only --output build/nbval $(NOTEBOOKS)
	@# the clothes runs are not compared cell by cell, so they run beside nbval, with oneDNN's kernels;
	@# their log is printed when they end, an interrupt stops both, and either failing fails the target
	TF_ENABLE_ONEDNN_OPTS=1 $(BIN)/python scripts/run_notebooks.py --budget smoke \
	  --dataset fashion_mnist --output build/smoke-fashion_mnist $(FASHION_NOTEBOOKS) \
	  > build/smoke-fashion_mnist.log 2>&1 & clothes=$$!; \
	trap 'kill $$clothes 2>/dev/null; exit 130' INT TERM; \
	$(BIN)/python -m pytest --nbval-lax --nbval-sanitize-with tests/notebooks/sanitize.cfg \
	  --nbval-cell-timeout 600 -p tests.notebooks.timing build/nbval -q; digits=$$?; \
	wait $$clothes; clothes=$$?; echo "--- the notebooks on Fashion-MNIST at smoke:"; \
	cat build/smoke-fashion_mnist.log; echo "exit status: nbval $$digits, Fashion-MNIST notebooks $$clothes"; \
	test $$digits = 0 && test $$clothes = 0

lab: setup
	$(BIN)/jupyter lab notebooks/

# Maintainers, after `make course`: open every page of build/html in headless Chromium and check
# that it loads, its images load, its figures and formulas match build/$(BUDGET)'s notebooks, every
# formula is typeset (no raw TeX), nothing comes from the web, no cell shows an error, the search
# finds a page and every link resolves; screenshots (desktop and phone) go to build/screenshots.
# Needs Debian's Chromium (not a Python package; CI has none).
check-html: $(VENV)/.installed
	@test -x /usr/bin/chromium || { echo "make check-html needs Debian's Chromium: sudo apt-get install chromium"; exit 1; }
	$(BIN)/python scripts/check_rendered_course.py --html build/html --executed build/$(BUDGET) --screenshots build/screenshots

# Maintainers: install the course the way a notebook's setup cell does into fresh environments
# holding the oldest TensorFlow/Keras pair that pyproject.toml allows (as tensorflow-cpu) and the
# newest the registry serves, and run notebooks 00, 03 and 09 at smoke on each (build/versions/).
versions: $(VENV)/.installed
	$(BIN)/python scripts/check_versions.py

# Keep only the outputs of golden cells (tag nbval-check-output) in the committed notebooks.
strip: $(VENV)/.installed
	$(BIN)/python scripts/strip_outputs.py $(NOTEBOOKS)

# Refresh the golden outputs: execute at the smoke budget and keep the golden cells' outputs.
golden: setup
	$(BIN)/python scripts/run_notebooks.py --budget smoke --output build/golden $(NOTEBOOKS)
	cp $(addprefix build/golden/,$(notdir $(NOTEBOOKS))) notebooks/
	$(BIN)/python scripts/strip_outputs.py $(NOTEBOOKS)

lock:
	rm -rf build/lockvenv && $(PYTHON) -m venv build/lockvenv
	build/lockvenv/bin/python -m pip install --quiet --upgrade pip
	build/lockvenv/bin/python -m pip install --quiet ".[tensorflow,dev]"
	(sed -n '1,2p' requirements-lock.txt; build/lockvenv/bin/python -m pip freeze --exclude course_lib --exclude pip) > requirements-lock.new
	mv requirements-lock.new requirements-lock.txt

clean:
	rm -rf build $(VENV) data/external
