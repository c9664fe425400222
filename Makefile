# The two commands of the README. Both install what is missing first (see scripts/install.sh).
VENV := .venv
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install demo test aarch64

$(STAMP): pyproject.toml constraints.txt scripts/install.sh web_demo/package-lock.json
	bash scripts/install.sh
	touch $(STAMP)

# Test-only tools (the web page's browser driver, the emulated aarch64 environment) on top of what the demo needs.
$(TEST_STAMP): $(STAMP) web_demo/package-lock.json scripts/install_aarch64.sh
	bash scripts/install.sh --test
	touch $(TEST_STAMP)

install: $(STAMP)

# The emulated aarch64 environment of `ygan verify --arch aarch64` (docs/runtime.md); not part of the demo.
aarch64: $(STAMP)
	bash scripts/install.sh --aarch64

demo: $(STAMP)
	$(VENV)/bin/ygan build --preset quick -o bundle

test: $(TEST_STAMP)
	$(VENV)/bin/python -m pytest -q
