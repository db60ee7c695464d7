#!/usr/bin/env bash
# Build localhost/envc-test-base:bookworm with no registry: debootstrap a minimal Debian
# rootfs from the apt mirror this machine already uses, then buildah from scratch/add/commit.
#
# Idempotent and cheap when warm:
#   - image already in our storage          -> exits at once
#   - rootfs tarball cached                 -> only buildah add/commit (seconds)
#   - neither                               -> debootstrap (a minute or two) + cache the tarball
#
# Storage/config: if CONTAINERS_STORAGE_CONF is already set (tests pass theirs) it is used;
# otherwise the config is written by tests/engine.py (single source of truth) under
# $ENVC_E2E_CACHE/conf. Cache: ${ENVC_E2E_CACHE:-$HOME/.cache/envc-e2e}.
# Env: ENVC_DEBIAN_MIRROR overrides the mirror; ENVC_BASE_TAG overrides the tag.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cache="${ENVC_E2E_CACHE:-$HOME/.cache/envc-e2e}"
tag="${ENVC_BASE_TAG:-localhost/envc-test-base:bookworm}"
suite=bookworm
include=python3,python3-pip,python3-venv,ca-certificates
# the tarball name changes whenever the package set does
tarball="$cache/rootfs/$suite-minbase-$(printf %s "$include" | sha256sum | cut -c1-12).tar"

bash "$here/ci-install-engine.sh"
mkdir -p "$cache/rootfs"

if [ -z "${CONTAINERS_STORAGE_CONF:-}" ]; then
  eval "$(python3 "$repo/tests/engine.py" env "$cache/conf")"
fi
export BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"

# One builder at a time (pytest-xdist workers, parallel CI steps).
exec 9>"$cache/base-image.lock"
flock 9

if buildah inspect --type image "$tag" >/dev/null 2>&1; then
  echo "make-test-base-image: $tag already present" >&2
  exit 0
fi

# The mirror apt uses for the main Debian archive (deb822 .sources or one-line .list).
find_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri="$(awk '
      /^[[:space:]]*$/ { if (deb && main) { print uri; exit } deb=main=0; uri="" ; next }
      /^Types:/  { for (i=2;i<=NF;i++) if ($i=="deb") deb=1 }
      /^URIs:/   { uri=$2 }
      /^Suites:/ { for (i=2;i<=NF;i++) if ($i=="'"$suite"'") main=1 }
      END { if (deb && main) print uri }' "$f" | head -n1)"
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri="$(awk '$1=="deb" { u=$2; s=$3; if ($2 ~ /^\[/) { u=$3; s=$4 }
                            if (s=="'"$suite"'") { print u; exit } }' "$f")"
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  echo "http://deb.debian.org/debian"
}

if [ ! -s "$tarball" ]; then
  mirror="${ENVC_DEBIAN_MIRROR:-$(find_mirror)}"
  echo "make-test-base-image: debootstrap $suite from $mirror" >&2
  work="$(mktemp -d "$cache/rootfs/work.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase --include="$include" "$suite" "$work/rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -n 50 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"* \
         "$work/rootfs/var/log/"*.log "$work/rootfs/debootstrap"
  # /dev, /proc, /sys are provided by the engine at run time; device nodes don't belong in layers.
  tar --numeric-owner --xattrs -C "$work/rootfs" \
      --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
      -cf "$work/rootfs.tar" .
  mv "$work/rootfs.tar" "$tarball"
  rm -rf "$work"
  trap - EXIT
fi

ctr="$(buildah from --quiet scratch)"
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah add --quiet "$ctr" "$tarball" / >/dev/null
buildah config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env LANG=C.UTF-8 \
  --cmd /bin/bash \
  --label org.opencontainers.image.title=envc-test-base \
  --label org.opencontainers.image.description="debootstrap minbase $suite + $include" \
  "$ctr"
buildah commit --quiet --rm "$ctr" "$tag" >/dev/null
trap - EXIT
echo "make-test-base-image: built $tag" >&2
