# One virtual environment outside the checkout, created when missing and reused otherwise.
VENV ?= $(HOME)/.venvs/gan-lightning
PYTHON ?= python3
# MNIST lives in $(DATA)/MNIST/raw/ and is downloaded there when missing; offline, point DATA at a copy.
DATA ?= data
# The extras installed with it: test (the suite) and, for the documentation site, docs (CI installs both).
EXTRAS ?= test
BIN := $(VENV)/bin
DEPS_STAMP := $(VENV)/.deps-$(shell (cat pyproject.toml; echo $(EXTRAS)) | cksum | cut -d' ' -f1)

.PHONY: setup test train reproduce stacked-mnist notebooks docs docs-serve

## setup: create the virtual environment (first time only) and install gan-lightning into it
setup: $(DEPS_STAMP)
	@$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . 2>&1 | grep -v "is ignored" || true
	@$(BIN)/python -c "import gan_lightning, sys; print('gan-lightning', gan_lightning.__version__, 'in', sys.prefix)"

$(DEPS_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	rm -f $(VENV)/.deps-* && touch $@

# Test processes (pytest-xdist); 1 runs the suite in this process.
TEST_WORKERS ?= 2

## test: run the test suite in $(TEST_WORKERS) processes (CPU, offline; the real-MNIST tests run when $(DATA) holds MNIST)
test: setup
	GAN_LIGHTNING_MNIST="$${GAN_LIGHTNING_MNIST:-$(abspath $(DATA))}" $(BIN)/python -m pytest \
	    $(if $(filter-out 1,$(TEST_WORKERS)),-n $(TEST_WORKERS))

## train: train the tutorial GAN on MNIST in $(DATA) for 10 epochs
train: setup
	$(BIN)/gan-lightning fit --config configs/gan.yaml --data.data_dir $(DATA) --trainer.max_epochs 10

## reproduce: train every recipe for the README's budgets and rewrite its results and truncation tables, grids and curves
reproduce: setup
	$(BIN)/python scripts/reproduce.py --recipes fast_infogan@42,43 fast_cdcgan@42,43 r3gan:12m@42,43 cr3gan:12m@42,43 \
	    gan:10e cgan:10e dcgan:12m cdcgan:12m wgan_gp:12m dcgan_hinge_sn_ema:12m pggan:12m \
	    --data-dir $(DATA) --docs docs --pages docs/recipes.md docs/recipes.ja.md --summary README.md README.ja.md \
	    --ship fast_cdcgan fast_infogan gan cgan pggan
	$(BIN)/python scripts/truncation.py --results results/results.csv --recipes fast_infogan fast_cdcgan \
	    --data-dir $(DATA) --plot docs/truncation.png --pages docs/quality.md docs/quality.ja.md
	$(BIN)/python scripts/nearest_neighbors.py --results results/results.csv --recipe fast_cdcgan \
	    --data-dir $(DATA) --out docs/nearest_neighbors.png

## stacked-mnist: train three recipes on Stacked MNIST for 30 minutes each and rewrite docs/stacked_mnist.md's table
stacked-mnist: setup
	$(BIN)/python scripts/stacked_mnist.py --recipes r3gan:30m dcgan:30m dcgan_hinge_sn_ema:30m \
	    --data-dir $(DATA) --pages docs/stacked_mnist.md docs/stacked_mnist.ja.md

## notebooks: execute the tutorial notebooks into notebooks/*.ipynb, outputs included (about 13 minutes on a CPU)
notebooks: setup
	$(BIN)/python scripts/build_notebooks.py --data-dir $(DATA)

## docs: build the documentation site (docs/*.md, the API reference from the docstrings) into build/site
docs:
	$(MAKE) setup EXTRAS=test,docs
	$(BIN)/mkdocs build --strict

## docs-serve: serve the documentation site at http://127.0.0.1:8000, rebuilt on every change
docs-serve:
	$(MAKE) setup EXTRAS=test,docs
	$(BIN)/mkdocs serve
