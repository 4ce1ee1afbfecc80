#!/usr/bin/env bash
# Runs the Java <-> Python example: compiles multiproc-core if needed, then PythonInterop.java
# (single-file source launch) with the JDK 25 that bin/ finds. Needs python3; numpy is optional.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../bin/lib/common.sh"
find_jdk
mvnw -DskipTests -pl multiproc-core compile >&2
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$MULTIPROC_ROOT/multiproc-core/target/classes" \
  "$here/PythonInterop.java" "$here"
