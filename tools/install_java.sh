#!/usr/bin/env bash
# Install Debian's `openjdk-17-jre-headless` for the Spark lesson
# (notebooks/09_scaling_out.ipynb, recsys_helpers/spark.py) when no `java` is
# found.  Idempotent: does nothing when Java is already there (JAVA_HOME or
# PATH, as Spark's launcher looks).  Spark 4 needs Java 17 or newer.
# macOS and Windows: see README.md ("Java for the Spark lesson").
set -euo pipefail

PACKAGE="openjdk-17-jre-headless"

if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    JAVA="$JAVA_HOME/bin/java"
else
    JAVA="$(command -v java || true)"
fi

if [ -n "$JAVA" ]; then
    echo "java: found $JAVA ($("$JAVA" -version 2>&1 | head -n 1 || echo 'version unknown'))"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "error: java is missing and this script is not running as root." >&2
    echo "       Install it with: sudo apt-get update && sudo apt-get install -y --no-install-recommends $PACKAGE" >&2
    echo "       (or set JAVA_HOME to an existing Java 17 or newer)." >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: java is missing and apt-get is not available (not a Debian/Ubuntu system)." >&2
    echo "       Install Java 17 or newer with your package manager and set JAVA_HOME." >&2
    exit 1
fi

echo "java: missing, installing Debian's $PACKAGE"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "$PACKAGE"

if ! command -v java >/dev/null 2>&1; then
    echo "error: apt-get installed $PACKAGE but java is still not on PATH." >&2
    exit 1
fi
echo "java: installed $(java -version 2>&1 | head -n 1)"
