#!/usr/bin/env bash
# nginx for the several-instances tests (tests/test_deploy.py, tests/cluster.py): Debian's own
# package, run by the tests as an ordinary process on loopback ports with deploy/nginx.conf
# (the package's own service is not used). Installs it only when missing.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends nginx
