"""What the report says, computed from manifest.json and parity.json before any HTML is written.

One row per artifact joins the manifest (the authority on what the bundle holds, its sizes and MACs)
with the per-model and pipeline parity of parity.json; an artifact's status is its worst check, so a
model that passes on patches but fails on frames shows as failing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

SEVERITY = {"pass": 0, "not verified": 1, "fail": 2}


@dataclass
class ArtifactRow:
    id: str
    format: str
    precision: str
    role: str
    theme: str | None
    backend: str | None
    size: int
    macs: int | None
    max_abs: float | None
    psnr_db: float | None  # None with max_abs == 0: bit-exact; None otherwise: not measured
    threshold_db: float | None
    pipeline_psnr_u8_db: float | None  # worst golden frame; inf: every frame identical
    ssim: float | None  # worst golden frame
    status: str
    notes: list[str] = field(default_factory=list)

    @property
    def bit_exact(self) -> bool:
        return self.psnr_db is None and self.max_abs == 0

    @property
    def measured(self) -> bool:
        return self.psnr_db is not None or self.bit_exact


@dataclass
class Verdict:
    ok: bool
    artifacts: int
    failed: list[str]
    not_verified: list[str]
    stand_ins: int
    stand_ins_failed: list[str]

    @property
    def headline(self) -> str:
        fails = len(self.failed) + len(self.stand_ins_failed)
        if fails:
            return f"{fails} fail" + (f", {len(self.not_verified)} not verified" if self.not_verified else "")
        if not self.ok:
            return "Fail: parity.json reports ok = false"
        if self.not_verified:
            return (f"No failures: {self.artifacts - len(self.not_verified)} of {self.artifacts} artifacts pass, "
                    f"{len(self.not_verified)} not verified; {self.stand_ins} stand-in checks pass")
        return f"All pass: {self.artifacts} artifacts and {self.stand_ins} pipeline stand-in checks"

    @property
    def tone(self) -> str:
        """pass (green), partial (amber: nothing failed but not everything was checked) or fail (red)."""
        if not self.ok or self.failed or self.stand_ins_failed:
            return "fail"
        return "partial" if self.not_verified else "pass"


def worst(statuses: list[str]) -> str:
    """Unknown status words rank as failures: a report must never turn them into a pass."""
    return max(statuses, key=lambda s: SEVERITY.get(s, 3))


def _worst_psnr(values: list[float | None]) -> float | None:
    """Worst frame; verify writes None for identical frames, so all-None means ∞ (and no frames means unknown)."""
    if not values:
        return None
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return min(finite) if finite else math.inf


def _worst_ssim(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def artifact_rows(manifest: dict, parity: dict) -> list[ArtifactRow]:
    models = {m["id"]: m for m in parity.get("models", [])}
    pipeline: dict[str, list[dict]] = {}
    for entry in parity.get("pipeline", []):
        pipeline.setdefault(entry["id"], []).append(entry)
    rows = []
    for artifact in manifest["artifacts"]:
        model = models.get(artifact["id"], {})
        frames = pipeline.get(artifact["id"], [])
        statuses = [model.get("status", "not verified")] + [f["status"] for f in frames]
        notes = []
        if model.get("reason"):
            notes.append(str(model["reason"]))
        bad = [str(f["frame"]) for f in frames if f["status"] != "pass"]
        if bad:
            notes.append(f"pipeline {worst([f['status'] for f in frames])} on frame {', '.join(bad)}")
        rows.append(ArtifactRow(
            id=artifact["id"], format=artifact["format"], precision=artifact["precision"], role=artifact["role"],
            theme=artifact.get("theme"), backend=model.get("backend"), size=int(artifact["size"]),
            macs=artifact.get("macs"), max_abs=model.get("max_abs"), psnr_db=model.get("psnr_db"),
            threshold_db=model.get("threshold_db"),
            pipeline_psnr_u8_db=_worst_psnr([f.get("psnr_u8_db") for f in frames]),
            ssim=_worst_ssim([f.get("ssim") for f in frames]), status=worst(statuses), notes=notes))
    return rows


def verdict(rows: list[ArtifactRow], parity: dict) -> Verdict:
    stand_ins = parity.get("stand_ins", [])
    failed = [r.id for r in rows if SEVERITY.get(r.status, 3) >= 2]
    stand_ins_failed = [s["key"] for s in stand_ins if s.get("status") != "pass"]
    return Verdict(ok=bool(parity.get("ok")) and not failed and not stand_ins_failed, artifacts=len(rows),
                   failed=failed, not_verified=[r.id for r in rows if r.status == "not verified"],
                   stand_ins=len(stand_ins), stand_ins_failed=stand_ins_failed)


def pipeline_entry(parity: dict, artifact_id: str, frame: int) -> dict | None:
    """The frame check of one artifact on golden frame `frame` (verify may name it 0 or "frame.0")."""
    for entry in parity.get("pipeline", []):
        if entry["id"] == artifact_id and str(entry["frame"]) in (str(frame), f"frame.{frame}"):
            return entry
    return None
