# derive: `make worksheet` writes the lecture's handout and worked solution; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# texlive-latex-recommended holds beamer (derive slides); texlive-lang-german is for the tests' German document.
TEX_PACKAGES := latexmk texlive-latex-base texlive-latex-recommended texlive-pictures texlive-fonts-recommended texlive-lang-german poppler-utils

.PHONY: all worksheet examples test test-all tex venv node bench clean

all: worksheet

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# TeX from Debian's packages: installed when missing and we are root, else the exact command to run.
tex:
	@sh scripts/ensure-tex.sh $(TEX_PACKAGES)

# The lecture's handout and solution; its second half (regularisation as soft and hard constraint)
# worked on the same network in output/regularization/.
worksheet: venv tex
	$(VENV)/bin/derive worksheet examples/lecture.toml --out output/lecture
	$(VENV)/bin/derive worksheet examples/regularization.toml --out output/regularization

examples: venv tex
	@for f in examples/*.toml; do n=$$(basename $$f .toml); \
	  echo "derive worksheet $$f --out output/$$n"; \
	  $(VENV)/bin/derive worksheet $$f --out output/$$n || exit $$?; done

# KaTeX (package.json, the exact version in package-lock.json) renders the Markdown output in the tests.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

node: node_modules/.installed

# The suite with a small sample of the page gate and of the document-class matrix; test-all adds
# the whole matrix (the tests marked full or slow).
test: venv tex node
	$(PY) -m pytest -q -n 2


test-all: venv tex node
	$(PY) -m pytest -q -n 2 --run-slow

bench: venv tex
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit $$?; done

clean:
	rm -rf output/* build .pytest_cache
