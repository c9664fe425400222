"""The CPU a speed number was measured on: model name and the ISA flags int8 kernels depend on.

Why record flags and not only the model name: the same LiteRT/XNNPACK build picks different int8
kernels by ISA (AVX2; AVX-512 VNNI; AVX-VNNI; AMX on Sapphire Rapids and later; NEON dot-product
and i8mm on ARM), and a cloud CPU's model name is often just "AMD EPYC" or "Intel Xeon Processor",
so a ratio without the flags can't be compared across machines (issue 22). Read from Linux's
/proc/cpuinfo; elsewhere the flags are an empty list and the name is what `platform` says.
"""

from __future__ import annotations

import platform
from pathlib import Path

# the flags that matter for int8/float inference, in /proc/cpuinfo's spelling
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16",
             "asimd", "asimddp", "i8mm", "sve", "sve2")


def cpu_description(cpuinfo: str | None = None) -> dict:
    """{"model": name, "isa": [flags present, in ISA_FLAGS order]} for this machine (or the given cpuinfo text)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    model = fields.get("model name") or fields.get("Hardware") or platform.processor() or platform.machine()
    present = set((fields.get("flags") or fields.get("Features") or "").split())
    return {"model": model, "isa": [f for f in ISA_FLAGS if f in present]}
