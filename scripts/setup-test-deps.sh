#!/usr/bin/env bash
# Installs what the test suite needs from Debian's packages: Chromium for the browser tests, which
# playwright-core drives at /usr/bin/chromium without downloading a browser, and Python 3 with
# PyTorch, ONNX and pytest for the models/ recipe tests. Then it runs `npm ci`, unless node_modules
# already matches package-lock.json, because re-installing under a running `npm start` breaks that
# server. Needs root, as CI has; on a workstation run it with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(chromium python3-torch python3-onnx python3-numpy python3-pil python3-pytest python3-regex python3-scipy)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup-test-deps: missing Debian packages: ${missing[*]}; rerun this script as root (sudo)." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# `npm ci` must run its install scripts: they put the pinned Node 24 into node_modules/.bin.
installed_lock=node_modules/.package-lock.json
if [[ ! -x node_modules/.bin/node || ! -f $installed_lock || package-lock.json -nt $installed_lock ]]; then
  npm ci --no-audit --no-fund
fi
