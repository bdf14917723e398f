# The README's two commands: `make run` (set up, index corpus/, start the UI) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 7860
# ONNX Runtime serves queries: same vectors as PyTorch, model ready in 0.3 s instead of 4.5 s (docs/benchmarks.md)
BACKEND ?= onnx

.PHONY: install system-deps run ingest serve test eval clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,onnx,openvino,qdrant]'
	touch $@

# Tesseract + Vietnamese model for scanned PDFs; without them scans are skipped with a reason.
system-deps:
	-bash scripts/install-system-deps.sh

install: system-deps $(VENV)/.installed

ingest: install
	$(VENV)/bin/rag ingest corpus --index index

AUTH ?=
serve: install
	$(VENV)/bin/rag serve --index index --host $(HOST) --port $(PORT) --backend $(BACKEND) $(if $(AUTH),--auth $(AUTH))

run: ingest serve

test: install
	$(PY) -m pytest -q

clean:
	rm -rf index/gen-* index/CURRENT
