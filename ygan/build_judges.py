"""The quality stage's judges, fitted in child processes on one core each while the parent works on.

Why children: the judges (`quality.judges` small CNNs, about 50 core-seconds each on the AMD EPYC for
the quick preset) depend only on the teacher's held-out data, never on a model the build makes, and the
convert stage keeps one of two cores busy for about 80 s. `ygan build` starts one child as convert
starts and a second as verify starts (the quality stage starts both where convert and verify did not
run); the second takes the judges the first has not begun, so both cores fit judges while the renders
run (docs/build.md "Mosaic quality"). Each judge is claimed by one child through a file created
exclusively (`claim.K`): the first child takes them from the first, the second from the last. Why one thread in every schedule: a judge comes out the same
whichever child fitted it, beside convert, beside the renders or alone, on a machine of any size.

The held-out data is drawn once, by the parent as it starts the job, and read by the children from a
safetensors file: drawing the theme tiles again took each child about 11 s of its core. Each judge
comes back as a safetensors file (its weights; classes and accuracy in the header) in a temporary
folder, never as a pickle. When the judges' mean accuracy is below the floor, the parent fits them all
again at `retry_steps` with two children at once.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

from ygan_mobile.errors import YganError

ERROR = "error"  # a child's error file: error.PID.txt
HELD = "held.safetensors"  # the held-out data, drawn once by the parent (ygan_mobile.mosaic.heldout.save)


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


def judge_file(folder: Path, k: int) -> Path:
    return folder / f"judge.{k}.safetensors"


class JudgeJob:
    """The child processes fitting the judges of `bundle`'s teacher with `settings`: one from the
    start, another from add_worker(). The held-out data is drawn here, once, and handed to the
    children as a file (`held`: what the quality stage scores); when there is too little of it, no
    child starts and `held` and result() raise NotMeasurable. `held` may be given instead (tests)."""

    def __init__(self, bundle: Path, settings: JudgeSettings, held=None):
        from ygan.build_quality import NotMeasurable, heldout_of, teacher_config
        from ygan_mobile.mosaic import heldout

        self.bundle, self.settings = bundle, settings
        self.processes: list[subprocess.Popen] = []
        self.unmeasurable: NotMeasurable | None = None
        try:
            self._held = held if held is not None else heldout_of(teacher_config(bundle), settings.side)
        except NotMeasurable as exc:
            self._held, self.unmeasurable = None, exc
        self.folder = Path(tempfile.mkdtemp(prefix="ygan-judges-"))
        if self._held is not None:
            heldout.save(self._held, self.folder / HELD)
            self.round = self._round(settings.steps, workers=1)

    @property
    def held(self):
        """The teacher's held-out data (ygan_mobile.mosaic.heldout.HeldOut) the judges are fitted on."""
        if self.unmeasurable is not None:
            raise self.unmeasurable
        return self._held

    def _round(self, steps: int, workers: int) -> Path:
        """A folder of its own for fitting every judge at `steps`, and its first `workers` children."""
        folder = self.folder / f"steps-{steps}"
        folder.mkdir()
        for _ in range(workers):
            self._start(folder, steps)
        return folder

    def _start(self, folder: Path, steps: int) -> None:
        settings = dataclasses.replace(self.settings, steps=steps)
        order = "last" if self.processes else "first"  # the second child claims from the last judge backwards
        # a fresh interpreter (no torch or TensorFlow threads inherited, no caller's main module re-run)
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", __name__, str(self.bundle), json.dumps(dataclasses.asdict(settings)), str(folder), order,
             str(self.folder / HELD)],
            stdin=subprocess.DEVNULL))

    def add_worker(self) -> None:
        """A second child for the judges the first has not begun (no more than one, and none once the
        first has ended)."""
        if self._held is not None and len(self.processes) == 1 and self.processes[0].poll() is None and self.settings.count > 1:
            self._start(self.round, self.settings.steps)

    def result(self) -> Fitted:
        """Wait for the children and load the judges, refitted at retry_steps (with two children) when
        their accuracy is below the floor; a child's error as one YganError line."""
        from ygan.build_quality import retry_note

        if self.unmeasurable is not None:
            self.cancel()
            raise self.unmeasurable
        try:
            judges, accuracy = self._collect(self.round)
            steps, note = self.settings.steps, retry_note(accuracy, self.settings.steps, self.settings.retry_steps)
            if note:
                steps = self.settings.retry_steps
                self.processes = []
                judges, accuracy = self._collect(self._round(steps, workers=min(2, self.settings.count)))
        finally:
            self.cancel()
        return Fitted(judges, accuracy, steps, note)

    def _collect(self, folder: Path) -> tuple[list, dict[str, float]]:
        """Every judge of `folder`'s round once its children have ended, and their mean accuracy per class
        (as ygan_mobile.mosaic.score.fit_judges averages it)."""
        import torch
        from safetensors import safe_open

        from ygan_mobile.mosaic.judge import Judge, JudgeNet
        from ygan_mobile.mosaic.score import mean_accuracy

        codes = [p.wait() for p in self.processes]
        errors = sorted(folder.glob(f"{ERROR}.*.txt"))
        if errors:
            raise YganError(f"fitting the quality judges failed: {errors[0].read_text().strip()}")
        if any(codes) or not all(judge_file(folder, k).is_file() for k in range(self.settings.count)):
            raise YganError(f"fitting the quality judges failed: a child process ended with code {max(codes, key=abs)}")
        judges, each = [], []
        for k in range(self.settings.count):
            with safe_open(str(judge_file(folder, k)), "pt") as f:
                meta = json.loads(f.metadata()["judge"])
                net = JudgeNet(len(meta["classes"])).to(memory_format=torch.channels_last)  # as fitted: ~30% faster here
                net.load_state_dict({name: f.get_tensor(name) for name in f.keys()})
            judges.append(Judge(meta["classes"], net.eval()))
            each.append(meta["accuracy"])
        return judges, mean_accuracy(each)

    def cancel(self) -> None:
        """Stop the children that still run and remove the folder."""
        for p in self.processes:
            if p.poll() is None:
                p.terminate()
                p.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def claim(folder: Path, k: int) -> bool:
    """True for the one child whose exclusive create of claim.K succeeds."""
    try:
        os.close(os.open(folder / f"claim.{k}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def _fit_into(bundle: str, settings: JudgeSettings, folder: str, order: str, held_file: str) -> None:
    """A child: every judge it can claim, each written atomically, fitted on the held-out data in
    `held_file` (read at its first claim). Any error is written for the parent to report."""
    out = Path(folder)
    try:
        import torch
        from safetensors.torch import save_file

        from ygan.build_quality import teacher_config
        from ygan_mobile.atomic import atomic_path
        from ygan_mobile.mosaic import heldout
        from ygan_mobile.mosaic.score import fit_judges

        torch.set_num_threads(1)
        seed = teacher_config(Path(bundle)).train.seed
        held = None  # read after the first claim: a child that finds every judge taken ends at once
        ks = range(settings.count) if order == "first" else range(settings.count - 1, -1, -1)
        for k in ks:
            if not claim(out, k):
                continue
            if held is None:
                held = heldout.load(held_file)
            # fit_judges' k-th judge (seed + k) and its accuracy on the same test patches
            (judge,), accuracy = fit_judges(held, seed=seed + k, steps=settings.steps, count=1)
            weights = {name: t.detach().contiguous() for name, t in judge.net.state_dict().items()}
            with atomic_path(judge_file(out, k)) as tmp:
                save_file(weights, str(tmp), metadata={"judge": json.dumps({"classes": judge.classes, "accuracy": accuracy})})
    except BaseException as exc:  # reported by the parent, whatever it was
        text = str(exc) if isinstance(exc, YganError) else "".join(traceback.format_exception_only(exc)).strip()
        (out / f"{ERROR}.{os.getpid()}.txt").write_text(text or type(exc).__name__)
        raise SystemExit(1) from None


if __name__ == "__main__":  # a child: BUNDLE SETTINGS_JSON FOLDER first|last HELD_FILE
    _fit_into(sys.argv[1], JudgeSettings(**json.loads(sys.argv[2])), sys.argv[3], sys.argv[4], sys.argv[5])
