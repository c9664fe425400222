"""Rebuild android_demo/gradle/wrapper/gradle-wrapper.jar from Debian's Gradle packages.

Why from Debian: this machine reaches PyPI, npm and Debian only, so Gradle's own wrapper jar cannot be
fetched; Debian bookworm's libgradle-core-java (4.4.1-18) ships the wrapper built from Gradle's
sources as two jars, gradle-wrapper-4.4.1.jar and the gradle-cli-4.4.1.jar it needs, which Gradle's
own build merges into one with the build receipt (the wrapper's version, from gradle-base-services).
This merges them the same way, with fixed timestamps and sorted entries so
the result is byte-identical on every run. A 4.4.1 wrapper reads distributionUrl and
distributionSha256Sum, downloads and checks the distribution, then hands over to the Gradle version
named there (8.10.2): the wrapper is only the bootstrap (docs/apps.md).

    python scripts/android_wrapper_jar.py    (needs apt-get; prints the jar's sha256)
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "android_demo" / "gradle" / "wrapper" / "gradle-wrapper.jar"
PACKAGE, VERSION = "libgradle-core-java", "4.4.1-18"
JARS = ("gradle-wrapper-4.4.1.jar", "gradle-cli-4.4.1.jar")
RECEIPT = ("gradle-base-services-4.4.1.jar", "org/gradle/build-receipt.properties")  # the wrapper reads its version here
EPOCH = (1980, 1, 1, 0, 0, 0)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        try:
            subprocess.run(["apt-get", "download", f"{PACKAGE}={VERSION}"], cwd=work, check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"android_wrapper_jar: error: apt-get download {PACKAGE}={VERSION} failed ({exc}): "
                  "run on Debian bookworm after apt-get update", file=sys.stderr)
            return 2
        deb = next(work.glob("*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "x")], check=True)
        entries: dict[str, bytes] = {}
        for name in JARS:
            with zipfile.ZipFile(work / "x" / "usr" / "share" / "java" / name) as jar:
                for info in jar.infolist():
                    if not info.is_dir() and info.filename not in entries:  # the wrapper's MANIFEST.MF comes first
                        entries[info.filename] = jar.read(info)
        with zipfile.ZipFile(work / "x" / "usr" / "share" / "java" / RECEIPT[0]) as jar:
            entries["build-receipt.properties"] = jar.read(RECEIPT[1])  # the wrapper looks at the jar root
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        tmp_jar = TARGET.with_suffix(".tmp")
        with zipfile.ZipFile(tmp_jar, "w", zipfile.ZIP_DEFLATED) as out:
            for name in sorted(entries, key=lambda n: (n != "META-INF/MANIFEST.MF", n)):
                info = zipfile.ZipInfo(name, EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, entries[name])
        tmp_jar.replace(TARGET)
    print(f"{TARGET.relative_to(ROOT)}: sha256 {hashlib.sha256(TARGET.read_bytes()).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
