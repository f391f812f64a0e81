# derive: `make worksheet` writes the lecture's handout and worked solution; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TEX_PACKAGES := latexmk texlive-latex-base texlive-latex-recommended texlive-pictures texlive-fonts-recommended poppler-utils

.PHONY: all worksheet examples test tex venv mathjax bench clean

all: worksheet

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# MathJax (npm mathjax-full, the exact version in package-lock.json) for tests/test_mathjax.py.
NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

mathjax: $(NODE_STAMP)

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

test: venv tex mathjax
	$(PY) -m pytest -q -n 2

bench: venv tex
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit $$?; done

clean:
	rm -rf output/* build .pytest_cache
