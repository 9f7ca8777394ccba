#!/usr/bin/env bash
# Install Debian's `chromium` package for the JupyterLab browser test
# (tests/browser/) when /usr/bin/chromium is missing.  Idempotent: does
# nothing when Chromium is already there.  Playwright drives this binary
# (executable_path=/usr/bin/chromium), so no Playwright browser download is needed.
set -euo pipefail

CHROMIUM="${RECSYS_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    echo "chromium: found $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "error: $CHROMIUM is missing and this script is not running as root." >&2
    echo "       Install it with: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium" >&2
    echo "       (or set RECSYS_CHROMIUM to the path of an existing Chromium binary)." >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: $CHROMIUM is missing and apt-get is not available (not a Debian/Ubuntu system)." >&2
    echo "       Install Chromium with your package manager and set RECSYS_CHROMIUM to its path." >&2
    exit 1
fi

echo "chromium: $CHROMIUM missing, installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium

if [ ! -x "$CHROMIUM" ]; then
    echo "error: apt-get installed chromium but $CHROMIUM is still missing." >&2
    exit 1
fi
echo "chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
