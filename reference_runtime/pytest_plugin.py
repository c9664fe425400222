"""`pytest --ygan-bundle BUNDLE`: a bundle's parity as tests in the user's own CI.

One test per artifact (golden patches), per pipeline check (an artifact on one golden frame) and per
stand-in case, plus one that the manifest is intact. The checks are verify's, run once per session;
an artifact whose backend this machine lacks is skipped with the reason, never passed. Registered
through the `pytest11` entry point, so it is active wherever ygan-mobile is installed and does
nothing without the option.
"""

from __future__ import annotations

import pytest

OPTION = "--ygan-bundle"


def pytest_addoption(parser):
    group = parser.getgroup("ygan", "ygan-mobile bundle parity")
    group.addoption(OPTION, metavar="BUNDLE", help="check this bundle's parity: one test per artifact and pipeline check")
    group.addoption("--ygan-threshold", action="append", default=[], metavar="PRECISION=DB",
                    help="override a parity threshold of the bundle, e.g. int8-full=35 (repeatable)")
    group.addoption("--ygan-threads", type=int, default=2, help="runtime threads for the bundle checks (default: 2)")


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
            self.doc = verify_bundle(opts.ygan_bundle, parse_thresholds(opts.ygan_threshold),
                                     threads=opts.ygan_threads, out=out)
        return self.doc


class CheckItem(pytest.Item):
    def __init__(self, *, kind: str, key, run: ParityRun, **kwargs):
        super().__init__(**kwargs)
        self.kind, self.key, self.parity = kind, key, run

    def runtest(self):
        from reference_runtime.verify import failures

        doc = self.parity.get()
        rows = {"model": doc["models"], "pipeline": doc["pipeline"], "stand_in": doc["stand_ins"]}[self.kind]
        row = next(r for r in rows if _row_key(self.kind, r) == self.key)
        if row["status"] == "not verified":
            pytest.skip(f"{row['id']}: not verified: {row.get('reason', '')}")
        if row["status"] != "pass":
            single = {"models": [], "pipeline": [], "stand_ins": [], {"model": "models", "pipeline": "pipeline",
                                                                       "stand_in": "stand_ins"}[self.kind]: [row]}
            raise CheckFailed("\n".join(failures(single)))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"ygan {self.kind}: {self.name}"


class ManifestItem(pytest.Item):
    def runtest(self):
        from reference_runtime.manifest import read_manifest

        read_manifest(self.config.option.ygan_bundle)

    def reportinfo(self):
        return self.path, None, f"ygan manifest: {self.name}"


class CheckFailed(Exception):
    """A parity check below its threshold; shown as the one-line verdict, not a traceback."""


def _row_key(kind: str, row: dict):
    if kind == "model":
        return row["id"]
    if kind == "pipeline":
        return (row["id"], row["frame"])
    return row["key"]


class BundleCollector(pytest.Collector):
    def collect(self):
        from reference_runtime.manifest import ManifestError, read_manifest
        from reference_runtime.verify import frame_indices, load_goldens

        yield ManifestItem.from_parent(self, name="manifest")
        try:
            bundle = read_manifest(self.config.option.ygan_bundle)
            goldens = load_goldens(bundle)
        except ManifestError:
            return  # the manifest test above fails with the reader's message
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
