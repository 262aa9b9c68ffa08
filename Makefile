# The two commands a newcomer runs: `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO    ?= demo-out

.PHONY: demo test test-fast install demo-train bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch is pinned to the CPU build first so no extra asks for a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[all]"
	@$(BIN)/python -c "import cv2" 2>/dev/null || { echo "cv2 needs libGL: installing libgl1 libglib2.0-0 via apt"; \
	  (apt-get update -qq && apt-get install -y -qq libgl1 libglib2.0-0) >/dev/null; }
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m videoforge.synth.demo --out $(DEMO)

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

demo-train: $(STAMP)
	$(BIN)/python -m videoforge.train.demo --out $(DEMO)/train

clean:
	rm -rf $(VENV) $(DEMO) build *.egg-info src/*.egg-info
