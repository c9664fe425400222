"""The quality stage's judges, fitted in a child process on one core while the parent works on.

Why a child: the judges (`quality.judges` small CNNs, about 140 core-seconds on the Intel Xeon for the
quick preset) depend only on the teacher's held-out data, never on a model the build makes, and the
convert stage keeps one of two cores busy for about 70 s. `ygan build` starts them as convert starts;
the quality stage renders every model meanwhile and collects them before it scores
(docs/build.md "Mosaic quality"). Why one thread in every schedule: the judges come out the same
whether they were fitted beside convert, beside the renders or alone, on a machine of any size.

The judges come back as a safetensors file (their weights) and a JSON file (classes, accuracy, steps,
note) in a temporary folder, never as pickles.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

from ygan_mobile.errors import YganError

WEIGHTS, META, ERROR = "judges.safetensors", "judges.json", "error.txt"


@dataclass(frozen=True)
class JudgeSettings:
    """What fitting the judges depends on besides the bundle's teacher (QualitySettings' fields)."""
    steps: int
    retry_steps: int
    count: int
    side: int


@dataclass
class Fitted:
    judges: list  # ygan_mobile.mosaic.judge.Judge
    accuracy: dict[str, float]
    steps: int  # the steps they were fitted with (retry_steps when refitted)
    note: str  # why they were refitted, or ""


class JudgeJob:
    """One child process fitting the judges of `bundle`'s teacher with `settings`."""

    def __init__(self, bundle: Path, settings: JudgeSettings):
        self.settings = settings
        self.folder = Path(tempfile.mkdtemp(prefix="ygan-judges-"))
        # a fresh interpreter (no torch or TensorFlow threads inherited, no caller's main module re-run)
        self.process = subprocess.Popen([sys.executable, "-m", __name__, str(bundle), json.dumps(dataclasses.asdict(settings)),
                                         str(self.folder)], stdin=subprocess.DEVNULL)

    def result(self) -> Fitted:
        """Wait for the child and load its judges; its error as one YganError line if it failed."""
        import torch
        from safetensors.torch import load_file

        from ygan_mobile.mosaic.judge import Judge, JudgeNet

        try:
            code = self.process.wait()
            error = self.folder / ERROR
            if error.is_file():
                raise YganError(f"fitting the quality judges failed: {error.read_text().strip()}")
            if code != 0:
                raise YganError(f"fitting the quality judges failed: the child process ended with code {code}")
            meta = json.loads((self.folder / META).read_text())
            weights = load_file(str(self.folder / WEIGHTS))
        finally:
            self.cancel()
        judges = []
        for k, classes in enumerate(meta["classes"]):
            net = JudgeNet(len(classes)).to(memory_format=torch.channels_last)  # as fitted: ~30% faster here
            net.load_state_dict({name[len(f"{k}."):]: t for name, t in weights.items() if name.startswith(f"{k}.")})
            judges.append(Judge(classes, net.eval()))
        return Fitted(judges, meta["accuracy"], meta["steps"], meta["note"])

    def cancel(self) -> None:
        """Stop the child if it still runs and remove its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _fit_into(bundle: str, settings: JudgeSettings, folder: str) -> None:
    """The child: held-out data, judges, files. Any error is written for the parent to report."""
    out = Path(folder)
    try:
        import torch
        from safetensors.torch import save_file

        from ygan.build_quality import fit_accurate_judges, heldout_of, teacher_config

        torch.set_num_threads(1)
        cfg = teacher_config(Path(bundle))
        held = heldout_of(cfg, settings.side)
        fitted, accuracy, steps, note = fit_accurate_judges(held, cfg.train.seed, settings.steps, settings.retry_steps,
                                                             settings.count, lambda _: None)
        weights = {f"{k}.{name}": t.detach().contiguous() for k, j in enumerate(fitted) for name, t in j.net.state_dict().items()}
        save_file(weights, str(out / WEIGHTS))
        meta = {"classes": [j.classes for j in fitted], "accuracy": accuracy, "steps": steps, "note": note}
        (out / META).write_text(json.dumps(meta))
    except BaseException as exc:  # reported by the parent, whatever it was
        text = str(exc) if isinstance(exc, YganError) else "".join(traceback.format_exception_only(exc)).strip()
        (out / ERROR).write_text(text or type(exc).__name__)
        raise SystemExit(1) from None


if __name__ == "__main__":  # the child: BUNDLE SETTINGS_JSON FOLDER
    _fit_into(sys.argv[1], JudgeSettings(**json.loads(sys.argv[2])), sys.argv[3])
