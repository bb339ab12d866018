VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck install clean

$(PY):
	python3 -m venv $(VENV)

# Reinstall whenever the project's dependency list changes.
$(STAMP): pyproject.toml | $(PY)
	@echo "正在安装依赖（首次运行或依赖有变化时），约需 1 分钟…"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@# One question fills var/cache (FENGONG_CACHE): the first `python -m bot ask` is quick too.
	$(PY) -m bot ask 残联负责哪些 > /dev/null
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m bot

lint: $(STAMP)
	$(PY) -m ruff check .

typecheck: $(STAMP)
	$(PY) -m mypy

test: lint typecheck
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
