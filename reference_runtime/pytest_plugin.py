"""`pytest --ygan-bundle BUNDLE`: a bundle's parity as tests in the user's own CI.

One test per artifact (golden patches), per pipeline check (an artifact on one golden frame) and per
stand-in case, plus one that the bundle can be run at all. The checks are verify's, run once per
session, and the verdicts are verify's: a check that could not run fails, unless its backend was
skipped by name (`--ygan-skip-backend`), which is a skip with the reason. Every failure is the
one line `ygan verify` prints, never a traceback. Registered through the `pytest11` entry point,
so it is active wherever ygan-mobile is installed and does nothing without the option.
"""

from __future__ import annotations

import argparse

import pytest

OPTION = "--ygan-bundle"


def pytest_addoption(parser):
    group = parser.getgroup("ygan", "ygan-mobile bundle parity")
    group.addoption(OPTION, metavar="BUNDLE", help="check this bundle's parity: one test per artifact and pipeline check")
    group.addoption("--ygan-threshold", action="append", default=[], metavar="PRECISION=DB",
                    help="override a parity threshold of the bundle, e.g. int8-full=35 (repeatable)")
    group.addoption("--ygan-threads", type=int, default=2, help="runtime threads for the bundle checks (default: 2)")
    group.addoption("--ygan-skip-backend", action="append", default=[], metavar="FORMAT",
                    help="skip the artifacts of this format (onnx, tflite or coreml), e.g. where its runtime is "
                         "not installed (repeatable)")


class CheckFailed(Exception):
    """A check that failed or a bundle that was refused; shown as its one line, not a traceback."""


def _errors():
    from reference_runtime.backends import BackendError
    from reference_runtime.manifest import ManifestError
    from reference_runtime.verify import OptionError

    return ManifestError, BackendError, OptionError, argparse.ArgumentTypeError


class ParityRun:
    """verify_bundle once, on the first test that needs it; its rows looked up by test."""

    def __init__(self, config):
        self.config = config
        self.doc: dict | None = None

    def get(self) -> dict:
        if self.doc is None:
            from reference_runtime.cli import parse_thresholds
            from reference_runtime.verify import verify_bundle

            opts = self.config.option
            cache = getattr(self.config, "cache", None)  # absent with -p no:cacheprovider: then BUNDLE/parity.json
            out = cache.mkdir("ygan") / "parity.json" if cache else None
            try:
                self.doc = verify_bundle(opts.ygan_bundle, parse_thresholds(opts.ygan_threshold), threads=opts.ygan_threads,
                                         out=out, skip=tuple(opts.ygan_skip_backend))
            except _errors() as exc:
                raise CheckFailed(f"verify: error: {exc}") from None
        return self.doc


class OneLineItem(pytest.Item):
    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class CheckItem(OneLineItem):
    def __init__(self, *, kind: str, key, run: ParityRun, **kwargs):
        super().__init__(**kwargs)
        self.kind, self.key, self.parity = kind, key, run

    def runtest(self):
        from reference_runtime.verify import failures

        doc = self.parity.get()
        section = {"model": "models", "pipeline": "pipeline", "stand_in": "stand_ins"}[self.kind]
        row = next((r for r in doc[section] if _row_key(self.kind, r) == self.key), None)
        if row is None:
            raise CheckFailed(f"{self.name}: verify wrote no result for this check")
        if row["status"] == "not verified":
            pytest.skip(f"{row['id']}: not verified: {row.get('reason', '')}")
        if row["status"] != "pass":
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


def _row_key(kind: str, row: dict):
    if kind == "model":
        return row["id"]
    if kind == "pipeline":
        return (row["id"], row["frame"])
    return row["key"]


class BundleCollector(pytest.Collector):
    def collect(self):
        from reference_runtime.cli import parse_thresholds
        from reference_runtime.goldens import frame_indices, load_goldens
        from reference_runtime.manifest import read_manifest
        from reference_runtime.verify import check_options

        opts = self.config.option
        try:
            bundle = read_manifest(opts.ygan_bundle)
            goldens = load_goldens(bundle)
            check_options(bundle, parse_thresholds(opts.ygan_threshold), opts.ygan_threads, tuple(opts.ygan_skip_backend))
        except _errors() as exc:
            yield ManifestItem.from_parent(self, name="manifest", problem=f"verify: error: {exc}")
            return
        yield ManifestItem.from_parent(self, name="manifest", problem=None)
        run = ParityRun(self.config)
        for artifact in bundle.artifacts:
            yield CheckItem.from_parent(self, name=f"model[{artifact['id']}]", kind="model", key=artifact["id"], run=run)
        for artifact in bundle.artifacts:
            if artifact["role"] == "patch_model":
                for i in frame_indices(goldens.frames):
                    yield CheckItem.from_parent(self, name=f"pipeline[{artifact['id']}-frame{i}]", kind="pipeline",
                                                key=(artifact["id"], i), run=run)
        for case in goldens.cases:
            yield CheckItem.from_parent(self, name=f"stand_in[{case['key']}-{case['model']}]", kind="stand_in",
                                        key=case["key"], run=run)


def pytest_collection_modifyitems(session, config, items):
    if not config.getoption("ygan_bundle"):
        return
    collector = BundleCollector.from_parent(session, name=f"ygan-bundle[{config.getoption('ygan_bundle')}]")
    items.extend(collector.collect())
