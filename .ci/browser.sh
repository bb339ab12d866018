#!/usr/bin/env bash
# Headless Chromium for the web console's end-to-end tests (tests/test_web_browser.py):
# Debian's own package, driven by the playwright Python package from pyproject.toml (its
# browser download, `playwright install`, is never used). Installs it only when missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium
