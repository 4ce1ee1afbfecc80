# Sourced by the scripts in bin/. Finds a JDK >= 25 and knows where the build puts things.
# The default `java` on a fresh machine may be 17, so JAVA_HOME and PATH are only used when new enough.

MULTIPROC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

java_major() { # $1 = path to a java binary; prints its feature version or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -1
}

find_jdk() { # sets JAVA_HOME to a JDK >= 25 or exits with one clear line
  local candidates=() c v failed="" seen=" "
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    c="$(readlink -f "$(command -v java)")"; candidates+=("$(dirname "$(dirname "$c")")")
  fi
  for c in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do candidates+=("${c%/}"); done
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    case "$seen" in *" $(readlink -f "$c") "*) continue ;; esac
    seen="$seen$(readlink -f "$c") "
    # A java that does not start (JDK 17 refuses a JAVA_TOOL_OPTIONS flag of a newer JDK) fails the pipeline;
    # under the callers' set -e -o pipefail that would end the script silently, so it only skips the candidate.
    v="$(java_major "$c/bin/java")" || v=""
    [ -n "$v" ] || failed="${failed:+$failed, }$c/bin/java"
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then export JAVA_HOME="$c"; export PATH="$c/bin:$PATH"; return 0; fi
  done
  echo "multiproc: no JDK 25 or newer found (looked at JAVA_HOME, java on PATH and /usr/lib/jvm/*); install one or set JAVA_HOME${failed:+ (these did not start, check JAVA_TOOL_OPTIONS and JDK_JAVA_OPTIONS: $failed)}" >&2
  exit 1
}

mvnw() { "$MULTIPROC_ROOT/mvnw" -B -q -f "$MULTIPROC_ROOT/pom.xml" "$@"; }

ensure_redis() { # the Redis tests and redis-* benchmarks start their own redis-server; install it when missing
  [ -n "${MULTIPROC_REDIS_SERVER:-}" ] && return 0
  command -v redis-server >/dev/null 2>&1 && return 0
  command -v valkey-server >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "multiproc: installing the Debian package redis-server (needed by the multiproc-redis tests)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q redis-server >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q redis-server >/dev/null 2>&1; } || true
  fi
  command -v redis-server >/dev/null 2>&1 && return 0
  echo "multiproc: no redis-server or valkey-server on PATH and it could not be installed; install the package redis-server (or valkey-server) or set MULTIPROC_REDIS_SERVER" >&2
  exit 1
}

bench_needs_redis() { # $@ = the arguments after `bench`; true if they run a redis-* scenario (all scenarios do)
  local a next="" picked=""
  for a in "$@"; do
    case "$a" in -h|--help|-V|--version) return 1 ;; esac # help runs nothing, wherever it stands
  done
  for a in "$@"; do
    if [ -n "$next" ]; then next=""; picked=1; case "$a" in redis-*) return 0 ;; esac; continue; fi
    case "$a" in
      --scenario) next=1 ;;
      --scenario=*) picked=1; case "${a#--scenario=}" in redis-*) return 0 ;; esac ;;
    esac
  done
  [ -z "$picked" ]
}
