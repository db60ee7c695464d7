#!/usr/bin/env bash
# Install the real editor engine tests/test_editor.py talks to: yaml-language-server from npm, at the version
# and with the dependency tree pinned by tests/editor/package.json and package-lock.json (integrity hashes),
# into .venv/yaml-language-server of this checkout (ignored by git). No global install. Idempotent: npm runs
# only when the installed tree is not the locked one. Prints the server's path. Uses the machine's Node.js and npm
# (20 here); on a machine without npm, Debian's nodejs and npm packages are installed first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="${ENVC_YAML_LANGUAGE_SERVER_PREFIX:-$root/.venv/yaml-language-server}"
server="$prefix/node_modules/.bin/yaml-language-server"
lock="$root/tests/editor/package-lock.json"

if [ ! -x "$server" ] || ! cmp -s "$lock" "$prefix/package-lock.json"; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "ci-install-yaml-language-server: installing Debian's nodejs and npm" >&2
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >&2
  fi
  echo "ci-install-yaml-language-server: installing into $prefix" >&2
  mkdir -p "$prefix"
  cp "$root/tests/editor/package.json" "$lock" "$prefix/"
  npm ci --prefix "$prefix" --no-audit --no-fund --loglevel=error >&2
fi
echo "$server"
