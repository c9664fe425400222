#!/usr/bin/env bash
# The emulated aarch64 environment `verify --arch aarch64` runs the runtime in (issue 46, docs/runtime.md),
# in .tools/aarch64/ (or $YGAN_AARCH64):
#   bin/qemu-aarch64  the static user-mode emulator of Debian trixie's qemu-user (10.0; bookworm's 7.2 crashes
#                     inside LiteRT's and onnxruntime's first invoke)
#   sysroot/          Debian bookworm's arm64 python3.11 and the libraries it and the wheels load, unpacked
#   site-packages/    the aarch64 wheels of the runtime's dependencies, at constraints.txt's versions
# Nothing is installed into the system: apt works on a private state folder and the packages are unpacked with
# dpkg-deb. The network is needed here only; verify --arch aarch64 runs offline. Idempotent: an environment this
# script made from the same constraints.txt is left alone. Called by scripts/install.sh --aarch64 and --test.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=$(realpath -m "${YGAN_AARCH64:-.tools/aarch64}")  # absolute: apt reads relative paths from /etc/apt
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# python3.11's own libraries, libstdc++ and libgcc for LiteRT and onnxruntime; numpy brings its OpenBLAS
ARM64_DEBS=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libexpat1 zlib1g libffi8 libssl3
            libstdc++6 libgcc-s1 libbz2-1.0 liblzma5 libcrypt1 libuuid1)
WHEELS=(numpy pillow ai-edge-litert onnxruntime jsonschema)  # what the runtime's command line imports; pip adds their dependencies

stamp=$(cat scripts/install_aarch64.sh constraints.txt | sha256sum | cut -d" " -f1)
if [[ -x $TARGET/bin/qemu-aarch64 && $(cat "$TARGET/.installed" 2>/dev/null) == "$stamp" ]]; then
  exit 0
fi
[[ $(dpkg --print-architecture 2>/dev/null) == amd64 ]] || { echo "install_aarch64.sh: needs Debian's apt on x86-64" >&2; exit 2; }
[[ -x .venv/bin/pip ]] || { echo "install_aarch64.sh: no .venv: run scripts/install.sh first" >&2; exit 2; }

echo "installing the emulated aarch64 environment into $TARGET (qemu-user, arm64 python3.11, aarch64 wheels)"
mkdir -p "$(dirname "$TARGET")"
work=$(mktemp -d "$TARGET.new.XXXXXX")  # beside the target: moved into place whole, or removed
trap 'rm -rf "$work"' EXIT
apt=$work/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$apt/preferences.d" "$work/env/bin"
touch "$apt/status"
cat > "$apt/sources.list" <<EOF
deb [arch=amd64 signed-by=$KEYRING] http://deb.debian.org/debian trixie main
deb [arch=arm64 signed-by=$KEYRING] http://deb.debian.org/debian bookworm main
deb [arch=arm64 signed-by=$KEYRING] http://deb.debian.org/debian-security bookworm-security main
EOF
APT=(-qq -o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts="$apt/preferences.d"
     -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o Dir::State::status="$apt/status"
     -o APT::Architectures::=amd64 -o APT::Architectures::=arm64 -o APT::Sandbox::User="$(id -un)")
apt-get "${APT[@]}" update
(cd "$apt/debs" && apt-get "${APT[@]}" download qemu-user "${ARM64_DEBS[@]/%/:arm64}")

dpkg-deb -x "$apt/debs"/qemu-user_*_amd64.deb "$work/qemu"
mv "$work/qemu/usr/bin/qemu-aarch64" "$work/env/bin/"
for deb in "$apt/debs"/*_arm64.deb; do
  dpkg-deb -x "$deb" "$work/env/sysroot"
done
rm -rf "$work/env/sysroot/usr/share"/{doc,man,locale,lintian}

# bookworm's glibc is 2.36: every manylinux tag up to it fits (LiteRT's wheels are manylinux_2_27)
.venv/bin/pip install -q --target "$work/env/site-packages" --only-binary=:all: --implementation cp \
  --python-version 3.11 $(printf -- "--platform manylinux_2_%s_aarch64 " {17..36}) --platform manylinux2014_aarch64 \
  -c constraints.txt "${WHEELS[@]}"

emulated() {
  PYTHONPATH="$work/env/site-packages" PYTHONNOUSERSITE=1 "$work/env/bin/qemu-aarch64" -L "$work/env/sysroot" \
    "$work/env/sysroot/usr/bin/python3.11" "$@"
}
# Debian compiles the standard library at install time, which unpacking skips: compiled once here, so an
# emulated run neither compiles it each time nor writes into the environment.
emulated -m compileall -q "$work/env/sysroot/usr/lib/python3.11"
# the runtime's own command line must load there (verify runs through it)
PYTHONPATH="$work/env/site-packages:$PWD" PYTHONNOUSERSITE=1 "$work/env/bin/qemu-aarch64" -L "$work/env/sysroot" \
  "$work/env/sysroot/usr/bin/python3.11" -c "import reference_runtime.cli; from ai_edge_litert.interpreter import Interpreter"

echo "$stamp" > "$work/env/.installed"
rm -rf "$TARGET"
mv "$work/env" "$TARGET"
echo "emulated aarch64 environment ready: $TARGET ($(du -sh "$TARGET" | cut -f1))"
