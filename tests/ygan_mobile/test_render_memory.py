"""Both pipelines render a 12 MP photograph within 1 GB (issue 21, item 3): patches stream through
the model in chunks of the batch, so peak memory is the frame plus a few patch rows, not every patch
of the frame (docs/pipeline.md, "Memory"; before streaming: 9.6 GB in torch, 1.9 GB in numpy).

Each render runs in a fresh interpreter under an address-space limit of what it had mapped after
its imports plus the budget, so a pipeline that needs more fails at once rather than swapping the
machine; the peak resident size is read back from /proc/self/status (VmHWM).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

BUDGET_MB = 1024  # the whole process at its peak, interpreter and libraries included
CHILD = """
import json, resource, sys
import numpy as np
which = sys.argv[1]
frame = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)  # 12 MP
if which == "torch":
    import torch
    torch.set_num_threads(1)
    from ygan_mobile.render import torch_pipeline
    model = lambda x: torch.tanh(x * 0.9)
    render = lambda: torch_pipeline.render_frame(frame, [model], patch=32, stride=16, batch=16)
else:
    from reference_runtime import fast_paths
    model = lambda x: np.tanh(x * np.float32(0.9))
    render = lambda: fast_paths.render_frame(frame, [model], patch=32, stride=16, batch=16)
mapped = int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmSize:"))) * 1024
room = int(sys.argv[2]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (mapped + room, mapped + room))
out = render()
# VmHWM is this process's own peak; getrusage's ru_maxrss would carry the forking parent's across exec
peak_kb = int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
print(json.dumps({"peak_mb": peak_kb / 1024, "shape": list(out.shape)}))
"""


def _peak(which: str) -> dict:
    env = {**os.environ, "MALLOC_ARENA_MAX": "2", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD, which, str(BUDGET_MB)], capture_output=True, text=True,
                          timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-1500:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("which", ["numpy", pytest.param("torch", marks=pytest.mark.slow)])
def test_a_12_megapixel_photo_renders_within_1_gb(which):
    result = _peak(which)
    assert result["shape"] == [3000, 4000, 3]
    assert result["peak_mb"] <= BUDGET_MB, result
