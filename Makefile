# Reelforge. Two commands on a fresh Debian machine with Python 3.11:
#   make run    install, migrate, create the demo account, start web + worker + beat
#   make test   install the test requirements and run the suite
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Fonts beyond DejaVu draw text in other scripts: CJK (WenQuanYi), most others (Noto), symbols.
SYSTEM_PACKAGES := ffmpeg espeak-ng fonts-dejavu-core fonts-wqy-microhei fonts-noto-core \
	fonts-symbola

.PHONY: run test system-deps test-deps venv install install-dev migrate demo-user lint ci schema clean

system-deps:
	@missing=""; \
	command -v ffmpeg >/dev/null || missing="$$missing ffmpeg"; \
	command -v ffprobe >/dev/null || missing="$$missing ffmpeg"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$$missing fonts-wqy-microhei"; \
	[ -d /usr/share/fonts/truetype/noto ] || missing="$$missing fonts-noto-core"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	fi

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)."; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "Installing python3-venv (Debian ships venv separately)"; rm -rf $(VENV); \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv >/dev/null && \
	  $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip

venv: $(VENV)/bin/python

$(VENV)/.installed: requirements.txt | venv
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | venv
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: system-deps $(VENV)/.installed

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
test-deps:
	@if ! command -v chromium >/dev/null; then \
	  echo "Installing chromium for the browser tests"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

install-dev: system-deps test-deps $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

demo-user: migrate
	$(PY) manage.py create_demo_user
	$(PY) manage.py library_seed

run: demo-user
	PORT=$(PORT) bin/run-local

test: install-dev
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .

schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file var/schema.yaml

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
