#!/bin/sh
# Runs a Java program as in a Docker container with its default /dev/shm: a private mount namespace in
# which /dev/shm is a fresh tmpfs of SIZE (default 64m). Needs root (unshare -m); the machine's own
# /dev/shm is not touched, and what the program leaves in its /dev/shm is listed, then goes with the
# namespace.
#   small-dev-shm.sh [SIZE] java --enable-native-access=ALL-UNNAMED -cp app.jar:multiproc-core.jar Main
# What to expect: an IOException "cannot reserve size=N bytes for /dev/shm/NAME (not enough free space);
# /dev/shm has F bytes free of 67108864 (64 MiB): give it more (... docker run --shm-size=1g ...)" from a
# SharedMemory, SharedQueue, Manager heap or Pool item too large for it; never SIGBUS; nothing left but
# the registry directory multiproc-UID.
case "$1" in
    [0-9]*) size=$1; shift ;;
    *) size=64m ;;
esac
exec unshare -m sh -c 'mount --make-rprivate / && mount -t tmpfs -o size="$0" tmpfs /dev/shm && "$@"; rc=$?; echo "left in /dev/shm: $(ls -A /dev/shm | tr "\n" " ")" >&2; exit $rc' "$size" "$@"
