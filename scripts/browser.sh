#!/usr/bin/env bash
# Headless Chromium and its driver for crmconf's browser test (tests/test_fleet_page.py).
#
#   scripts/browser.sh ensure   print the paths of chromium and chromedriver; as root, install
#                               Debian's chromium and chromium-driver first when missing.
#                               Exit 3 when they are missing and cannot be installed (not root):
#                               the browser test then skips, saying why (in CI it fails).
set -euo pipefail

UNAVAILABLE=3
say() { echo "browser.sh: $*" >&2; }

found() { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }

ensure() {
    if ! found; then
        if [[ $(id -u) != 0 ]]; then
            say "chromium and chromedriver are not installed, and installing them needs root"
            exit $UNAVAILABLE
        fi
        say "installing Chromium from Debian's packages (apt-get install -y chromium chromium-driver)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; }
    fi
    command -v chromium
    command -v chromedriver
}

case "${1:-}" in
    ensure) ensure ;;
    *) echo "usage: scripts/browser.sh ensure" >&2; exit 2 ;;
esac
