#!/usr/bin/env bash
# Compiles the pure-Kotlin pipeline core and its JUnit tests with kotlinc (no Gradle, no Android SDK)
# and runs them against a bundle's golden vectors. Last line: "N passed, M failed".
#   android_demo/run_tests.sh BUNDLE [SRC_DIR]   (SRC_DIR defaults to android_demo/pipeline/src)
#   YGAN_PYTHON=.venv/bin/python android_demo/run_tests.sh BUNDLE   also runs the real int8 .tflite through the app's
#   model class, in LiteRT via litert_bridge.py (RealModelTest)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
BUNDLE="${1:?usage: run_tests.sh BUNDLE [SRC_DIR]}"
SRC="${2:-$HERE/pipeline/src}"
KOTLINC="$ROOT/.tools/node_modules/kotlin-compiler/bin/kotlinc"
CP="/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar:/usr/share/java/gson.jar"
for tool in "$KOTLINC" /usr/share/java/junit4.jar /usr/share/java/gson.jar; do
  [[ -e "$tool" ]] || { echo "missing $tool: run scripts/install.sh (make test does)" >&2; exit 2; }
done

# One jar per distinct source tree: kotlinc takes ~1 min, so an unchanged tree is not recompiled.
SOURCES=$(find "$SRC/main/kotlin" "$SRC/test/kotlin" -name '*.kt' | sort)
KEY=$(cat $SOURCES | sha256sum | cut -c1-16)
JAR="$HERE/pipeline/build/tests-$KEY.jar"
if [[ ! -f "$JAR" ]]; then
  mkdir -p "$HERE/pipeline/build"
  "$KOTLINC" -nowarn -include-runtime -cp "$CP" -d "$JAR.tmp.jar" $SOURCES 2>&1 | grep -v "^warning" >&2 || true
  [[ -f "$JAR.tmp.jar" ]] || { echo "kotlinc failed" >&2; exit 2; }
  mv "$JAR.tmp.jar" "$JAR"
fi
BRIDGE=()
[[ -z "${YGAN_PYTHON:-}" ]] || BRIDGE=(-Dygan.python="$YGAN_PYTHON" -Dygan.bridge="$HERE/litert_bridge.py")
exec java -Dygan.bundle="$BUNDLE" "${BRIDGE[@]}" -cp "$JAR:$CP" ygan.pipeline.TestMainKt
