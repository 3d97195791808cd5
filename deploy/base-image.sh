#!/bin/sh
# Make the base image deploy/Containerfile builds FROM, without any image registry: Debian
# bookworm (minbase) with python3 3.11, python3-venv and ca-certificates, by debootstrap,
# imported into the container engine.
#
#   deploy/base-image.sh [TAG]        (as root; TAG default taskdesk-base:bookworm)
#
# Needs debootstrap (apt-get install debootstrap) and a Debian mirror: DEBIAN_MIRROR, default
# http://deb.debian.org/debian. The root file system is kept as a tarball in
# TASKDESK_CACHE (default ~/.cache/taskdesk), so making the image again takes seconds; delete
# the tarball to pick up Debian's security updates. CONTAINER_ENGINE: docker (default) or
# podman. Nothing happens when the engine has TAG already.
set -eu
tag="${1:-taskdesk-base:bookworm}"
engine="${CONTAINER_ENGINE:-docker}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
cache="${TASKDESK_CACHE:-${HOME:-/root}/.cache/taskdesk}"
tarball="$cache/base-bookworm-python3.tar"

if "$engine" image inspect "$tag" >/dev/null 2>&1; then
    echo "$tag exists"
    exit 0
fi
if [ ! -s "$tarball" ]; then
    mkdir -p "$cache"
    rootfs="$(mktemp -d "$cache/rootfs.XXXXXX")"
    trap 'rm -rf "$rootfs" "$tarball.part"' EXIT
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" "$mirror"
    # Downloaded packages and package lists are not needed in an image.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --numeric-owner -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
fi
"$engine" import "$tarball" "$tag" >/dev/null
echo "$tag imported from $tarball"
