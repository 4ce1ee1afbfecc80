#!/bin/sh
# Two users without a passwd entry (OpenShift's arbitrary uids, docker run --user N) run a program whose
# child fails, with one shared temporary directory. Needs root (setpriv) and unshare -m (a private
# /dev/shm, see small-dev-shm.sh). Before the fix the second user's child failure was lost
# ("failure Optional.empty") and it warned "no AOT cache ... refusing directory .../multiproc-aot-?".
#   nameless-users.sh JAVA CLASSPATH MAINCLASS     (MAINCLASS starts a child that throws, prints p.failure())
java=$1; cp=$2; main=$3
tmp=$(mktemp -d) && chmod 1777 "$tmp"
for u in 54321 54322; do
    echo "--- uid $u"
    setpriv --reuid=$u --regid=$u --clear-groups env -u HOME "$java" -Djava.io.tmpdir="$tmp" \
        --enable-native-access=ALL-UNNAMED -cp "$cp" "$main" 2>&1
done
ls -la "$tmp"; rm -rf "$tmp"
