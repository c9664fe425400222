# The two commands of the README. Both install what is missing first (see scripts/install.sh).
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: install demo test

$(STAMP): pyproject.toml constraints.txt scripts/install.sh
	bash scripts/install.sh
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/ygan build --preset quick -o bundle

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q
