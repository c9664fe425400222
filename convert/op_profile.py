"""Per-op profile of a .tflite file: each op cut out as a one-op model and timed under XNNPACK.

Why cut the graph: the LiteRT Python interpreter has no op profiler, and a whole-model timing hides
which op the frame's time goes to and which ops XNNPACK refuses (those run on the slower built-in
kernels and split the graph into several delegate partitions, each with its own hand-over). A
one-op model answers both: its time, and whether the delegate replaced it. The sum of the op
times next to the whole-model time shows what the partition boundaries cost.

Run: `python -m convert.op_profile model.tflite [--threads 2] [--runs 50] [--without-amx]`; on a CPU
with AMX, `--without-amx` times the ops on XNNPACK's AVX-512 VNNI int8 kernels instead of its AMX
ones (reference_runtime.cpu.deny_amx), the comparison docs/speed.md makes.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convert.quiet import quiet


@dataclass(frozen=True)
class OpTime:
    index: int
    op: str
    output_shape: list[int]
    dtype: str
    xnnpack: bool
    ms: float


def _interpreter(content: bytes, threads: int):
    from ai_edge_litert.interpreter import Interpreter

    with quiet():
        interp = Interpreter(model_content=content, num_threads=threads)
        interp.allocate_tensors()
    return interp


def _median_ms(interp, runs: int) -> float:
    rng = np.random.default_rng(0)
    for d in interp.get_input_details():
        info = np.iinfo(d["dtype"]) if np.issubdtype(d["dtype"], np.integer) else None
        data = (rng.integers(info.min, info.max, d["shape"]) if info else rng.uniform(-1, 1, d["shape"])).astype(d["dtype"])
        interp.set_tensor(d["index"], data)
    interp.invoke()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        interp.invoke()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def _delegated(interp) -> bool:
    return any(o["op_name"] == "DELEGATE" for o in interp._get_ops_details())


def _has_data(buffer) -> bool:
    return (buffer.data is not None and len(buffer.data) > 0) or bool(getattr(buffer, "size", 0))


def profile(path: Path, threads: int = 2, runs: int = 50) -> tuple[list[OpTime], float]:
    """Every op of subgraph 0 in graph order, and the whole model's median time (ms)."""
    from tensorflow.lite.tools import flatbuffer_utils as fb

    model = fb.read_model(str(path))
    graph = model.subgraphs[0]
    constant = {i for i, t in enumerate(graph.tensors) if _has_data(model.buffers[t.buffer])}
    names = [fb.opcode_to_name(model, op.opcodeIndex) for op in graph.operators]
    rows = []
    for index, op in enumerate(graph.operators):
        one = copy.deepcopy(model)
        sub = one.subgraphs[0]
        sub.operators = [copy.deepcopy(op)]
        sub.inputs = np.array([i for i in op.inputs if i >= 0 and i not in constant], dtype=np.int32)
        sub.outputs = np.array(list(op.outputs), dtype=np.int32)
        one.signatureDefs = []
        interp = _interpreter(bytes(fb.convert_object_to_bytearray(one)), threads)
        out = graph.tensors[op.outputs[0]]
        rows.append(OpTime(index, names[index], [int(s) for s in out.shape], fb.type_to_name(out.type).lower(),
                           _delegated(interp), _median_ms(interp, runs)))
    whole = _median_ms(_interpreter(path.read_bytes(), threads), runs)
    return rows, whole


def table(rows: list[OpTime], whole: float) -> str:
    """Markdown: one row per op, then the sum and the whole model."""
    lines = ["| # | op | output | dtype | XNNPACK | ms |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.index} | {r.op} | {'×'.join(map(str, r.output_shape))} | {r.dtype} | {'yes' if r.xnnpack else '**no**'} | {r.ms:.3f} |"
              for r in rows]
    lines.append(f"| | sum of ops | | | | {sum(r.ms for r in rows):.3f} |")
    lines.append(f"| | whole model | | | | {whole:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convert.op_profile", description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--without-amx", action="store_true", help="deny XNNPACK its AMX kernels (Linux x86-64)")
    args = parser.parse_args(argv)
    if not args.model.is_file():
        print(f"error: no such .tflite file: {args.model}", file=sys.stderr)
        return 2
    if args.without_amx:
        from reference_runtime.cpu import deny_amx

        try:
            deny_amx()
        except RuntimeError as exc:
            print(f"error: --without-amx: {exc}", file=sys.stderr)
            return 2
    rows, whole = profile(args.model, args.threads, args.runs)
    print(table(rows, whole))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
