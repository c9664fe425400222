"""`verify --arch aarch64`: the runtime's checks on the phone's instruction set, under qemu-user.

The slow tests run the emulated environment `make test` installs (scripts/install.sh --test) on the
session's tiny bundle: the same rows and thresholds as on x86, measured by ARM kernels on a CPU with
dot-product and i8mm, and a failing check named as on x86. The others fake or remove the
environment: a missing one is verify's one line and exit 2 in every entry point, a crashed one is
not taken for a verdict, and nothing is written either way.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from reference_runtime.backends import BackendError
from reference_runtime.cli import main as runtime_main
from reference_runtime.emulate import (CPU_MODEL, ENV_VAR, NOT_EMULATED, EmulatorMissing, find_emulator,
                                       mark_not_emulated, verify_aarch64, verify_arguments)
from reference_runtime.verify import verify_bundle
from ygan.cli import main as ygan_main

pytest_plugins = ["pytester"]


def _fake_environment(root: Path, qemu_script: str) -> Path:
    """An environment whose qemu-aarch64 is `qemu_script` (a shell script), with the files find_emulator wants."""
    (root / "bin").mkdir(parents=True)
    (root / "sysroot" / "usr" / "bin").mkdir(parents=True)
    (root / "sysroot" / "usr" / "bin" / "python3.11").touch()
    (root / "site-packages").mkdir()
    qemu = root / "bin" / "qemu-aarch64"
    qemu.write_text(f"#!/bin/sh\n{qemu_script}\n")
    qemu.chmod(qemu.stat().st_mode | stat.S_IXUSR)
    return root


def test_find_emulator_names_the_first_missing_piece_and_the_install_command(tmp_path, monkeypatch):
    env = _fake_environment(tmp_path / "env", "exit 0")
    (env / "sysroot" / "usr" / "bin" / "python3.11").unlink()
    monkeypatch.setenv(ENV_VAR, str(env))
    with pytest.raises(EmulatorMissing) as caught:
        find_emulator()
    assert str(caught.value) == (f"--arch aarch64: no emulated aarch64 environment in {env} (no sysroot/usr/bin/python3.11): "
                                 f"install it with scripts/install.sh --aarch64 (make aarch64), or set {ENV_VAR} to one")
    (env / "sysroot" / "usr" / "bin" / "python3.11").touch()
    assert find_emulator().command("-c", "pass") == [str(env / "bin" / "qemu-aarch64"), "-cpu", CPU_MODEL, "-L",
                                                     str(env / "sysroot"), str(env / "sysroot/usr/bin/python3.11"),
                                                     "-c", "pass"]


def test_the_emulated_run_gets_the_callers_options_and_skips_core_ml():
    args = verify_arguments(Path("/b"), Path("/t/parity.json"), {"int8-full": 35.0, "fp16": 60.5}, 3, ("onnx",))
    assert args == ["-m", "reference_runtime", "verify", "/b", "-o", "/t/parity.json", "--threads", "3",
                    "--threshold", "int8-full=35.0", "--threshold", "fp16=60.5",
                    "--skip-backend", "coreml", "--skip-backend", "onnx"]


def test_core_ml_rows_say_why_they_were_not_run_unless_the_user_skipped_them():
    doc = {"models": [{"id": "coreml/encoder.fp32", "reason": "skipped: --skip-backend coreml"},
                      {"id": "tflite/encoder.fp32", "status": "pass"}],
           "pipeline": [{"id": "coreml/patch_model.flowers.fp32", "frame": 0, "reason": "skipped: --skip-backend coreml"}]}
    formats = {"coreml/encoder.fp32": "coreml", "tflite/encoder.fp32": "tflite", "coreml/patch_model.flowers.fp32": "coreml"}
    ours = mark_not_emulated(json.loads(json.dumps(doc)), formats, (), "qemu-aarch64 version 10")
    assert [r.get("reason") for r in [*ours["models"], *ours["pipeline"]]] == [NOT_EMULATED["coreml"], None,
                                                                               NOT_EMULATED["coreml"]]
    assert ours["emulation"] == {"emulator": "qemu-aarch64 version 10", "cpu_model": CPU_MODEL, "not_run": NOT_EMULATED}
    theirs = mark_not_emulated(json.loads(json.dumps(doc)), formats, ("coreml",), "qemu-aarch64 version 10")
    assert theirs["models"][0]["reason"] == "skipped: --skip-backend coreml" and theirs["emulation"]["not_run"] == {}


@pytest.mark.parametrize("entry", ["python -m reference_runtime", "ygan"])
def test_a_missing_environment_is_one_line_and_exit_2_with_nothing_written(tiny_bundle, tmp_path, monkeypatch, capsys,
                                                                             entry):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "none"))
    main = runtime_main if entry != "ygan" else ygan_main
    assert main(["verify", str(tiny_bundle), "--arch", "aarch64", "-o", str(tmp_path / "parity.json")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"verify: error: --arch aarch64: no emulated aarch64 environment in {tmp_path / 'none'} "
                            f"(no bin/qemu-aarch64): install it with scripts/install.sh --aarch64 (make aarch64), "
                            f"or set {ENV_VAR} to one\n")
    assert not (tmp_path / "parity.json").exists()


def test_the_plugin_fails_its_manifest_test_when_the_environment_is_missing(pytester, tiny_bundle, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "none"))
    result = pytester.runpytest_subprocess("--ygan-bundle", str(tiny_bundle), "--ygan-arch", "aarch64",
                                           "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["verify: error: --arch aarch64: no emulated aarch64 environment in * install it with "
                                 "scripts/install.sh --aarch64*"])


def test_an_emulated_run_that_crashes_is_an_error_not_a_verdict(tiny_bundle, tmp_path, monkeypatch):
    env = _fake_environment(tmp_path / "env", 'echo "qemu: uncaught target signal 11 (Segmentation fault)" >&2; exit 139')
    monkeypatch.setenv(ENV_VAR, str(env))
    lines = []
    with pytest.raises(BackendError) as caught:
        verify_aarch64(tiny_bundle, out=tmp_path / "parity.json", log=lines.append)
    assert str(caught.value) == ("--arch aarch64: the emulated verify ended with exit 139 and no parity: "
                                 "qemu: uncaught target signal 11 (Segmentation fault)")
    assert lines[1:] == ["qemu: uncaught target signal 11 (Segmentation fault)"]  # after the line saying what runs
    assert not (tmp_path / "parity.json").exists()


def test_an_emulator_that_cannot_start_is_one_line(tiny_bundle, tmp_path, monkeypatch):
    env = _fake_environment(tmp_path / "env", "exit 0")
    (env / "bin" / "qemu-aarch64").chmod(0o644)
    monkeypatch.setenv(ENV_VAR, str(env))
    with pytest.raises(BackendError) as caught:
        verify_aarch64(tiny_bundle, write=False)
    assert str(caught.value) == f"--arch aarch64: cannot start {env / 'bin' / 'qemu-aarch64'}: Permission denied"


@pytest.fixture(scope="module")
def x86(tiny_bundle) -> dict:
    return verify_bundle(tiny_bundle, write=False)


def _installed() -> None:
    """The slow tests need the environment `make test` installs; without it they fail saying so."""
    try:
        find_emulator()
    except EmulatorMissing as exc:
        pytest.fail(str(exc))


@pytest.mark.slow
def test_every_tflite_and_onnx_check_runs_on_arm_kernels_at_the_same_thresholds(tiny_bundle, x86, tmp_path, capsys):
    _installed()
    out = tmp_path / "parity.json"
    assert runtime_main(["verify", str(tiny_bundle), "--arch", "aarch64", "-o", str(out), "-q"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"parity: {out}"
    doc = json.loads(out.read_text())
    assert doc["arch"] == "aarch64" and {"asimd", "asimddp", "i8mm"} <= set(doc["cpu_features"])
    assert not {"avx2", "avx512f"} & set(doc["cpu_features"])
    assert doc["emulation"]["cpu_model"] == CPU_MODEL and doc["emulation"]["emulator"].startswith("qemu-aarch64 version")
    assert doc["ok"] is True and doc["thresholds_db"] == x86["thresholds_db"]
    assert doc["bundle_manifest_sha256"] == x86["bundle_manifest_sha256"]
    ran = {r["id"]: r for r in doc["models"]}
    assert ran.keys() == {r["id"] for r in x86["models"]}
    for row in x86["models"]:
        arm = ran[row["id"]]
        assert (arm["status"], arm["backend"], arm["threshold_db"]) == ("pass", row["backend"], row["threshold_db"])
        # the same artifact on other kernels: PSNR vs PyTorch within a few dB of x86's, not merely above the threshold
        assert abs((arm["psnr_db"] or 200.0) - (row["psnr_db"] or 200.0)) < 3.0, (row["id"], arm["psnr_db"], row["psnr_db"])
    assert [(r["id"], r["frame"], r["status"]) for r in doc["pipeline"]] == [(r["id"], r["frame"], "pass") for r in x86["pipeline"]]
    assert [r["status"] for r in doc["stand_ins"]] == ["pass"] * len(x86["stand_ins"])


@pytest.mark.slow
def test_the_plugin_under_emulation_names_a_failing_check_as_verify_does(pytester, tiny_bundle, x86):
    _installed()
    result = pytester.runpytest_subprocess("--ygan-bundle", str(tiny_bundle), "--ygan-arch", "aarch64",
                                           "--ygan-threshold", "int8-full=200", "-p", "no:cacheprovider", "-q")
    checks = 1 + len(x86["models"]) + len(x86["pipeline"]) + len(x86["stand_ins"])  # and the manifest's test
    failing = sum(r["threshold_db"] == x86["thresholds_db"]["int8-full"] for r in [*x86["models"], *x86["pipeline"]])
    result.assert_outcomes(passed=checks - failing, failed=failing)
    result.stdout.fnmatch_lines(["*tflite/patch_model.flowers.int8-full: golden patches: PSNR * dB < 200.0 dB*"])
