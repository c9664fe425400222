"""`pytest --ygan-bundle BUNDLE`: a bundle's parity as tests in the user's own CI.

One test per artifact (golden patches), per pipeline check (an artifact on one golden frame) and per
stand-in case, plus one that the bundle can be run at all. They behave as pytest tests do:
`--collect-only` lists them without running a model, `-k`, `-m` and `--deselect` select them, and each test
runs only its own check (an artifact is opened once, by the first selected test that needs it). The
verdicts are verify's, computed with verify's functions: a check that could not run fails, unless
its backend was skipped by name (`--ygan-skip-backend`), which is a skip with the reason. Every
failure is the one line `ygan verify` prints, never a traceback. Nothing is written: not into the
bundle, not into pytest's cache. Registered through the `pytest11` entry point, so it is active
wherever ygan-mobile is installed and does nothing without the option.
"""

from __future__ import annotations

import argparse
import functools

import pytest

from reference_runtime.defaults import DEFAULT_THREADS

OPTION = "--ygan-bundle"


def pytest_addoption(parser):
    group = parser.getgroup("ygan", "ygan-mobile bundle parity")
    group.addoption(OPTION, metavar="BUNDLE", help="check this bundle's parity: one test per artifact and pipeline check")
    group.addoption("--ygan-threshold", action="append", default=[], metavar="PRECISION=DB",
                    help="override a parity threshold of the bundle, e.g. int8-full=35 (repeatable)")
    group.addoption("--ygan-threads", type=int, default=DEFAULT_THREADS,
                    help=f"runtime threads for the bundle checks (default: {DEFAULT_THREADS})")
    group.addoption("--ygan-skip-backend", action="append", default=[], metavar="FORMAT",
                    help="skip the artifacts of this format (onnx, tflite or coreml), e.g. where its runtime is "
                         "not installed (repeatable)")
    group.addoption("--ygan-arch", choices=["aarch64"],
                    help="run the bundle checks on this instruction set, under qemu-user (verify --arch; install: "
                         "scripts/install.sh --aarch64): one emulated verify run, each test reporting its row")


class CheckFailed(Exception):
    """A check that failed or a bundle that was refused; shown as its one line, not a traceback."""


def _errors():
    from reference_runtime.backends import BackendError
    from reference_runtime.manifest import ManifestError
    from reference_runtime.verify import OptionError

    return ManifestError, BackendError, OptionError, argparse.ArgumentTypeError


class ParityRun:
    """The session's checks, each computed when its first test runs; artifacts opened once."""

    def __init__(self, bundle, goldens, limits: dict[str, float], threads: int, skip: tuple[str, ...]):
        self.bundle, self.goldens, self.limits, self.threads, self.skip = bundle, goldens, limits, threads, skip
        self._opened: dict[str, tuple[object | None, dict]] = {}
        self._stand_ins: list[dict] | None = None

    def _open(self, artifact: dict) -> tuple[object | None, dict]:
        from reference_runtime.verify import open_checked

        if artifact["id"] not in self._opened:
            self._opened[artifact["id"]] = open_checked(self.bundle, artifact, self.threads, self.skip)
        return self._opened[artifact["id"]]

    def limit(self, artifact: dict) -> float:
        from reference_runtime.verify import threshold

        return threshold(artifact["precision"], self.limits)

    def model_row(self, artifact: dict) -> dict:
        from reference_runtime.verify import model_row, unopened_row

        runner, verdict = self._open(artifact)
        if runner is None:
            return unopened_row(artifact, self.limit(artifact), verdict)
        return model_row(artifact, runner, self.goldens, self.limit(artifact))

    def pipeline_row(self, artifact: dict, i: int) -> dict:
        from reference_runtime.verify import frame_row, pipeline_check

        runner, verdict = self._open(artifact)
        if runner is None:
            return {**frame_row(artifact, i, self.goldens.frames[f"frame.{i}"], self.limit(artifact)), **verdict}
        return pipeline_check(artifact, runner, self.goldens, i, self.limit(artifact))

    def multiscale_row(self, artifact: dict, i: int) -> dict:
        from reference_runtime.verify import frame_row, multiscale_check

        runner, verdict = self._open(artifact)
        if runner is None:
            return {**frame_row(artifact, f"multiscale.{i}", self.goldens.multiscale[f"frame.{i}"], self.limit(artifact)),
                    **verdict}
        return multiscale_check(artifact, runner, self.goldens, i, self.limit(artifact))

    def stand_in_row(self, key: str) -> dict | None:
        from reference_runtime.verify import multiscale_stand_in_checks, stand_in_checks

        if self._stand_ins is None:  # all cases at once: pure numpy on small frames
            self._stand_ins = [*stand_in_checks(self.goldens), *multiscale_stand_in_checks(self.goldens)]
        return next((r for r in self._stand_ins if r["key"] == key), None)


class EmulatedRun:
    """--ygan-arch: verify runs once under emulation, when the first selected test needs a row (a
    process per check would start the emulated Python hundreds of times); each test reports its row."""

    def __init__(self, bundle, thresholds: dict[str, float], threads: int, skip: tuple[str, ...]):
        self.bundle, self.thresholds, self.threads, self.skip = bundle, thresholds, threads, skip
        self._doc: dict | Exception | None = None

    def _rows(self, section: str) -> list[dict]:
        from reference_runtime.emulate import verify_aarch64

        if self._doc is None:
            try:
                self._doc = verify_aarch64(self.bundle.root, self.thresholds, self.threads, skip=self.skip, write=False)
            except _errors() as exc:
                self._doc = exc
        if isinstance(self._doc, Exception):
            raise CheckFailed(f"verify: error: {self._doc}")
        return self._doc[section]

    def model_row(self, artifact: dict) -> dict | None:
        return next((r for r in self._rows("models") if r["id"] == artifact["id"]), None)

    def pipeline_row(self, artifact: dict, i: int) -> dict | None:
        return next((r for r in self._rows("pipeline") if r["id"] == artifact["id"] and r["frame"] == i), None)

    def multiscale_row(self, artifact: dict, i: int) -> dict | None:
        return next((r for r in self._rows("pipeline") if r["id"] == artifact["id"] and r["frame"] == f"multiscale.{i}"), None)

    def stand_in_row(self, key: str) -> dict | None:
        return next((r for r in self._rows("stand_ins") if r["key"] == key), None)


class OneLineItem(pytest.Item):
    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class CheckItem(OneLineItem):
    """One check: `row` computes its parity.json row when the test runs."""

    def __init__(self, *, kind: str, row, **kwargs):
        super().__init__(**kwargs)
        self.kind, self.row = kind, row

    def runtest(self):
        from reference_runtime.verify import failures

        row = self.row()
        if row is None:
            raise CheckFailed(f"{self.name}: verify wrote no result for this check")
        if row["status"] == "not verified":
            pytest.skip(f"{row['id']}: not verified: {row.get('reason', '')}")
        if row["status"] != "pass":
            section = {"model": "models", "pipeline": "pipeline", "stand_in": "stand_ins"}[self.kind]
            raise CheckFailed("\n".join(failures({"models": [], "pipeline": [], "stand_ins": [], section: [row]})))

    def reportinfo(self):
        return self.path, None, f"ygan {self.kind}: {self.name}"


class ManifestItem(OneLineItem):
    """Fails with the reader's one line when the bundle must not be run at all."""

    def __init__(self, *, problem: str | None, **kwargs):
        super().__init__(**kwargs)
        self.problem = problem

    def runtest(self):
        if self.problem:
            raise CheckFailed(self.problem)

    def reportinfo(self):
        return self.path, None, f"ygan manifest: {self.name}"


class BundleCollector(pytest.Collector):
    def collect(self):
        from reference_runtime.cli import parse_thresholds
        from reference_runtime.goldens import frame_indices, load_goldens
        from reference_runtime.manifest import read_manifest
        from reference_runtime.verify import check_options, threshold

        opts = self.config.option
        skip = tuple(opts.ygan_skip_backend)
        try:
            bundle = read_manifest(opts.ygan_bundle)
            goldens = load_goldens(bundle)
            thresholds = parse_thresholds(opts.ygan_threshold)
            check_options(bundle, thresholds, opts.ygan_threads, skip)
            limits = {**bundle.data["thresholds_db"], **thresholds}
            for artifact in bundle.artifacts:
                threshold(artifact["precision"], limits)
            if opts.ygan_arch:
                from reference_runtime.emulate import find_emulator

                find_emulator()
        except _errors() as exc:
            yield ManifestItem.from_parent(self, name="manifest", problem=f"verify: error: {exc}")
            return
        yield ManifestItem.from_parent(self, name="manifest", problem=None)
        if opts.ygan_arch:
            run = EmulatedRun(bundle, thresholds, opts.ygan_threads, skip)
        else:
            run = ParityRun(bundle, goldens, limits, opts.ygan_threads, skip)
        for a in bundle.artifacts:
            yield CheckItem.from_parent(self, name=f"model[{a['id']}]", kind="model",
                                        row=functools.partial(run.model_row, a))
        for a in bundle.artifacts:
            if a["role"] == "patch_model":
                for i in frame_indices(goldens.frames):
                    yield CheckItem.from_parent(self, name=f"pipeline[{a['id']}-frame{i}]", kind="pipeline",
                                                row=functools.partial(run.pipeline_row, a, i))
                for i in frame_indices(goldens.multiscale):
                    yield CheckItem.from_parent(self, name=f"multiscale[{a['id']}-frame{i}]", kind="pipeline",
                                                row=functools.partial(run.multiscale_row, a, i))
        for case in goldens.cases:
            yield CheckItem.from_parent(self, name=f"stand_in[{case['key']}-{case['model']}]", kind="stand_in",
                                        row=functools.partial(run.stand_in_row, case["key"]))
        for case in goldens.multiscale_entry.get("stand_ins", []):
            key = f"multiscale.{case['key']}"
            yield CheckItem.from_parent(self, name=f"stand_in[{key}-{'+'.join(case['models'])}]", kind="stand_in",
                                        row=functools.partial(run.stand_in_row, key))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """The bundle's tests join the session's before -k, -m and --deselect filter them, and through
    `genitems`, so collection reports count them (`--collect-only` lists them)."""
    if not config.getoption("ygan_bundle"):
        return
    name = f"ygan-bundle[{config.getoption('ygan_bundle')}]"
    collector = BundleCollector.from_parent(session, name=name, nodeid=name)  # not "::name" under the root
    items.extend(session.genitems(collector))
