#!/usr/bin/env bash
# Installs the Debian toolchains wfn's tests build with: Rust (wasm32-wasi std + lld),
# Go 1.23 (bookworm-backports), native binaryen, chromium (bench report test); moto_server
# (Python: the Lambda deploy and S3 store tests) with pip when it is missing and pip exists.
# Whatever is still missing then fails the tests under CI=true (they never skip there).
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
src=/etc/apt/sources.list.d/bookworm-backports.sources
if [ ! -f "$src" ]; then
  uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1 | awk '{print $2}')
  [ -n "$uri" ] || uri=http://deb.debian.org/debian
  $SUDO tee "$src" >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
pkgs="rustc cargo libstd-rust-dev-wasm32 lld-14 golang-1.23-go binaryen chromium"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# moto_server: found as `wfn doctor` finds it (PATH, then pyenv's shims).
if ! command -v moto_server >/dev/null 2>&1 && [ ! -x "${PYENV_ROOT:-$HOME/.pyenv}/shims/moto_server" ]; then
  pip=$(command -v pip3 || command -v pip || true)
  if [ -n "$pip" ]; then
    "$pip" install --quiet 'moto[server]' || echo "install-toolchains: could not install moto[server] with $pip; the Lambda and S3 tests will fail" >&2
  else
    echo "install-toolchains: no pip to install moto[server]; the Lambda and S3 tests will fail" >&2
  fi
fi
