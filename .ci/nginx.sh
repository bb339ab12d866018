#!/usr/bin/env bash
# nginx for the several-instances tests (tests/test_deploy.py, tests/test_cluster.py): Debian's
# own package, run by the tests as an ordinary process on loopback ports with deploy/nginx.conf
# (the package's own service is not used). Installs it only when missing.
set -euo pipefail
exec "$(dirname "$0")/apt-install.sh" nginx nginx
