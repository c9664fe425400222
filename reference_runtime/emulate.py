"""`verify --arch aarch64`: the runtime's own checks on the phone's instruction set, without a phone.

Why: phones run XNNPACK's and onnxruntime's ARM kernels (NEON, dot-product, i8mm), which may round
int8 and fp16 differently from the x86 kernels every other parity number is measured with (issue 46).
qemu-user runs Debian's arm64 python3.11 with the aarch64 wheels of this runtime's dependencies
(`scripts/install.sh --aarch64` puts them in .tools/aarch64), and that Python runs this package's
verify, unchanged, on a CPU model of a phone core; the parity document it writes to a temporary file
is read back here and written where a native run would write it.

Core ML artifacts are not run there: on a phone Apple's runtime runs them, and the runtime's MIL
interpreter is numpy whatever the architecture, so an emulated run of it says nothing about a phone.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from reference_runtime.backends import BackendError
from reference_runtime.bundle_files import PARITY
from reference_runtime.manifest import read_manifest
from reference_runtime.verify import OptionError, checked_target, write_json

ENV_VAR = "YGAN_AARCH64"
DEFAULT_HOME = Path(__file__).resolve().parents[1] / ".tools" / "aarch64"  # where scripts/install.sh puts it
INSTALL = "scripts/install.sh --aarch64 (make aarch64)"
# A phone core (Armv9.0-A, as in 2022–2024 flagships): NEON fp16, dot-product, i8mm, bf16, SVE2, no SME.
CPU_MODEL = "cortex-a710"
NOT_EMULATED = {"coreml": "not run under --arch aarch64: a phone runs Core ML with Apple's runtime, and this "
                          "runtime's MIL interpreter is numpy on any architecture; verify without --arch checks it"}


class EmulatorMissing(OptionError):
    """--arch aarch64 without its emulated environment: what to install, in one line."""


@dataclass(frozen=True)
class Emulator:
    home: Path

    @property
    def qemu(self) -> Path:
        return self.home / "bin" / "qemu-aarch64"

    @property
    def sysroot(self) -> Path:
        return self.home / "sysroot"

    @property
    def python(self) -> Path:
        return self.sysroot / "usr" / "bin" / "python3.11"

    @property
    def site_packages(self) -> Path:
        return self.home / "site-packages"

    def command(self, *args: str | Path) -> list[str]:
        """A command line of the emulated Python."""
        return [str(a) for a in (self.qemu, "-cpu", CPU_MODEL, "-L", self.sysroot, self.python, *args)]

    def version(self) -> str:
        """The emulator's first --version line, e.g. 'qemu-aarch64 version 10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)'."""
        done = subprocess.run([str(self.qemu), "--version"], capture_output=True, text=True)
        return (done.stdout.splitlines() or [f"{self.qemu.name} (no version: exit {done.returncode})"])[0]

    def run(self, *args: str | Path, log: Callable[[str], None] = lambda line: None) -> tuple[int, str]:
        """The emulated Python on `args`, each line it prints on stderr passed to `log`: (exit code, its
        last stderr line). It imports the aarch64 wheels and, of this project, this package only —
        through a link in a folder of its own, since the package's parent may be an x86 site-packages."""
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "QEMU_")) and k != "VIRTUAL_ENV"}
        last = ""
        with tempfile.TemporaryDirectory(prefix="ygan-aarch64-path-") as parent:
            (Path(parent) / "reference_runtime").symlink_to(Path(__file__).resolve().parent)
            env = {**keep, "PYTHONPATH": f"{parent}{os.pathsep}{self.site_packages}", "PYTHONNOUSERSITE": "1",
                   "PYTHONDONTWRITEBYTECODE": "1"}
            with subprocess.Popen(self.command(*args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True) as child:
                for line in child.stderr:
                    log(line.rstrip("\n"))
                    last = line.strip() or last
        return child.returncode, last


def find_emulator() -> Emulator:
    """The environment in $YGAN_AARCH64 or the project's .tools/aarch64; EmulatorMissing when incomplete."""
    emulator = Emulator(Path(os.environ.get(ENV_VAR) or DEFAULT_HOME))
    for path in (emulator.qemu, emulator.python, emulator.site_packages):
        if not path.exists():
            raise EmulatorMissing(f"--arch aarch64: no emulated aarch64 environment in {emulator.home} (no "
                                  f"{path.relative_to(emulator.home)}): install it with {INSTALL}, or set {ENV_VAR} to one")
    return emulator


def verify_arguments(bundle: Path, out: Path, thresholds: dict[str, float], threads: int,
                     skip: tuple[str, ...]) -> list[str]:
    """verify's command line for the emulated run: the caller's options, Core ML skipped."""
    args = ["-m", "reference_runtime", "verify", str(bundle), "-o", str(out), "--threads", str(threads)]
    for key, value in thresholds.items():
        args += ["--threshold", f"{key}={value!r}"]
    for name in sorted({*skip, *NOT_EMULATED}):
        args += ["--skip-backend", name]
    return args


def mark_not_emulated(doc: dict, formats: dict[str, str], user_skip: tuple[str, ...], emulator: str) -> dict:
    """Rows of the formats skipped for emulation's sake (`formats`: artifact id → format) say why,
    unless the user skipped them too; `emulation` records the emulator, the CPU model and those formats."""
    not_run = {fmt: reason for fmt, reason in NOT_EMULATED.items() if fmt not in user_skip}
    for row in [*doc["models"], *doc["pipeline"]]:
        if formats[row["id"]] in not_run:
            row["reason"] = not_run[formats[row["id"]]]
    doc["emulation"] = {"emulator": emulator, "cpu_model": CPU_MODEL, "not_run": not_run}
    return doc


def verify_aarch64(bundle_root: str | Path, thresholds: dict[str, float] | None = None, threads: int = 2,
                   out: str | Path | None = None, log: Callable[[str], None] = lambda message: None,
                   skip: tuple[str, ...] = (), write: bool = True) -> dict:
    """`verify_bundle` run by the emulated aarch64 Python: the same checks, rows and verdict, plus an
    `emulation` entry; `arch` and `cpu_features` are what the emulated runtime saw.

    Options and the environment are checked here first, so a refusal is verify's one line before
    anything runs or is written; a run that ends without a parity document is a BackendError."""
    bundle = read_manifest(bundle_root)
    thresholds = thresholds or {}
    target = checked_target(bundle, thresholds, threads, skip, out, write)
    emulator = find_emulator()
    log(f"verify in the emulated aarch64 Python (qemu-aarch64 -cpu {CPU_MODEL}); Core ML is not run there")
    with tempfile.TemporaryDirectory(prefix="ygan-aarch64-") as tmp:
        result = Path(tmp) / PARITY
        try:
            code, last = emulator.run(*verify_arguments(bundle.root.resolve(), result, thresholds, threads, tuple(skip)),
                                      log=log)
        except OSError as exc:  # e.g. a qemu-aarch64 that is not executable
            raise BackendError(f"--arch aarch64: cannot start {emulator.qemu}: {exc.strerror or exc}") from None
        if code not in (0, 1) or not result.exists():
            raise BackendError(f"--arch aarch64: the emulated verify ended with exit {code} and no parity: {last}")
        formats = {a["id"]: a["format"] for a in bundle.artifacts}
        doc = mark_not_emulated(json.loads(result.read_text()), formats, tuple(skip), emulator.version())
    if write:
        write_json(target, doc)
    return doc
