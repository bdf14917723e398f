# The README's two commands: `make run` (set up, index corpus/, start the UI) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 7860
# ONNX Runtime serves queries: same vectors as PyTorch, model ready in 0.3 s instead of 4.5 s (docs/benchmarks.md)
BACKEND ?= onnx

.PHONY: install system-deps run ingest serve test eval clean

# a line per step (issue 15: `make run` was silent for minutes); pip's own output stays quiet
$(VENV)/.installed: pyproject.toml
	@echo "==> Python environment in $(VENV)/ (first time only: a few minutes)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@echo "==> PyTorch 2.13.0, CPU build (~200 MB)"
	@$(PY) -m pip install -q torch==2.13.0
	@echo "==> the project and its libraries (sentence-transformers, FAISS, Gradio, pypdf, ONNX Runtime, Qdrant Edge...)"
	@$(PY) -m pip install -q -e '.[test,onnx,openvino,qdrant]'
	@touch $@
	@echo "==> installed"

# Tesseract + Vietnamese model for scanned PDFs; without them scans are skipped with a reason.
system-deps:
	-bash scripts/install-system-deps.sh

install: system-deps $(VENV)/.installed

ingest: install
	@echo "==> indexing corpus/ into index/ (first time: the model is prepared, then every passage embedded; later runs read only what changed)"
	$(VENV)/bin/rag ingest corpus --index index

AUTH ?=
serve: install
	@echo "==> starting the interface on http://$(HOST):$(PORT)/"
	$(VENV)/bin/rag serve --index index --host $(HOST) --port $(PORT) --backend $(BACKEND) $(if $(AUTH),--auth $(AUTH))

run: ingest serve

test: install
	$(PY) -m pytest -q

clean:
	rm -rf index/gen-* index/CURRENT
