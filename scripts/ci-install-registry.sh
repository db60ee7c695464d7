#!/usr/bin/env bash
# Install what the team-registry tests (tests/test_team_*.py) and bench/team.py need: Debian's
# docker-registry (CNCF distribution 2.8), skopeo (manifest lookups and config reads for buildah and
# podman) and apache2-utils (htpasswd -B: distribution accepts only bcrypt). Idempotent: apt-get runs
# only when a command is missing.
#
# Nothing is started: the tests start their own registry on 127.0.0.1 with their own config. The
# package's own service (port 5000, /etc/docker/registry) is kept from starting during the install by
# a policy-rc.d that refuses service starts, put there only when the machine has none and removed after.
set -euo pipefail

declare -A want=([docker-registry]=docker-registry [skopeo]=skopeo [htpasswd]=apache2-utils [openssl]=openssl)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

echo "ci-install-registry: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 0755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
