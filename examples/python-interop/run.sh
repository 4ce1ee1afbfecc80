#!/usr/bin/env bash
# Runs the Java <-> Python example as a user's project would: installs multiproc (bin/install), builds this
# project against the installed artifact, then runs example.PythonInterop with the JDK 25 that bin/ finds.
# Needs python3; numpy is optional.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../bin/lib/common.sh"
find_jdk
"$MULTIPROC_ROOT/bin/install" >&2
"$MULTIPROC_ROOT/mvnw" -B -q -f "$here/pom.xml" package >&2
core="$HOME/.m2/repository/io/multiproc/multiproc-core/0.1.0-SNAPSHOT/multiproc-core-0.1.0-SNAPSHOT.jar"
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$here/target/python-interop.jar:$core" \
  example.PythonInterop "$here"
