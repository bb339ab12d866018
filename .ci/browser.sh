#!/usr/bin/env bash
# Headless Chromium for the web console's end-to-end tests (tests/test_web_browser.py):
# Debian's own package, driven by the playwright Python package from pyproject.toml (its
# browser download, `playwright install`, is never used). Installs it only when missing.
set -euo pipefail
exec "$(dirname "$0")/apt-install.sh" chromium chromium
