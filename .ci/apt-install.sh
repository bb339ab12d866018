#!/usr/bin/env bash
# `apt-install.sh COMMAND PACKAGE`: installs Debian's PACKAGE when COMMAND is missing.
set -euo pipefail
if command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "$2"
