#!/usr/bin/env bash
# Install the real container build engine used by the e2e tests (buildah + runc),
# plus debootstrap to make the offline base image. Idempotent: only calls apt-get
# when a required command is missing, so a warm machine returns in milliseconds.
#
# Why these packages:
#   buildah       builds the Dockerfiles envc emits (`buildah bud --isolation chroot`)
#   runc          OCI runtime buildah/podman shell out to (podman's default would be crun)
#   podman        `podman run --rm` to execute commands in a built image
#   debootstrap   makes the Debian rootfs for the base image without any registry
#   fuse-overlayfs, uidmap, slirp4netns: rootless fallbacks; harmless as root, cheap to have
#   ca-certificates: host CA bundle bind-mounted into builds (TLS-intercepting proxy)
set -euo pipefail

# command -> package providing it
declare -A want=(
  [buildah]=buildah
  [runc]=runc
  [podman]=podman
  [debootstrap]=debootstrap
  [fuse-overlayfs]=fuse-overlayfs
  [newuidmap]=uidmap
  [slirp4netns]=slirp4netns
)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "ci-install-engine: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends keeps it small; containers-storage/golang-github-containers-common
# come in as hard dependencies and give us /usr/share/containers defaults.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
