"""The CPU a speed number was measured on: model name and the ISA flags int8 kernels depend on.

Why record flags and not only the model name: the same LiteRT/XNNPACK build picks different int8
kernels by ISA (AVX2; AVX-512 VNNI; AVX-VNNI; AMX on Sapphire Rapids and later; NEON dot-product
and i8mm on ARM), and a cloud CPU's model name is often just "AMD EPYC" or "Intel Xeon Processor",
so a ratio without the flags can't be compared across machines (issue 22). Read from Linux's
/proc/cpuinfo; elsewhere the flags are an empty list and the name is what `platform` says.
"""

from __future__ import annotations

import ctypes
import platform
import struct
import sys
from pathlib import Path

# the flags that matter for int8/float inference, in /proc/cpuinfo's spelling (asimdhp: ARM fp16 arithmetic;
# sme, sme2: the matrix extensions XNNPACK's KleidiAI kernels use on recent phones)
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16",
             "asimd", "asimdhp", "asimddp", "i8mm", "bf16", "sve", "sve2", "sme", "sme2")


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


# Linux x86-64: the syscall and request XNNPACK makes before it uses AMX tiles (arch/x86/include/uapi/asm/prctl.h)
_SYS_ARCH_PRCTL, _ARCH_REQ_XCOMP_PERM, _AUDIT_ARCH_X86_64 = 158, 0x1023, 0xC000003E
_EPERM, _PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 1, 38, 22, 2
_SECCOMP_RET_ERRNO, _SECCOMP_RET_ALLOW = 0x00050000, 0x7FFF0000
_LD_W_ABS, _JEQ_K, _RET_K = 0x20, 0x15, 0x06  # classic BPF: load a 32-bit word of seccomp_data, compare, return


def deny_amx() -> None:
    """From now on this process's requests for the AMX tile permission fail, so XNNPACK keeps to its
    AVX-512 VNNI int8 kernels on a CPU that has AMX: the diagnosis behind `ygan bench --without-amx`.

    Why a seccomp filter: XNNPACK turns its AMX kernels on whenever the CPU has AMX and the kernel
    grants the request (src/configs/hardware-config.c) and offers no switch; on the student's narrow
    full-resolution layers (3→16, 16→12 channels) those 16×64-tile kernels are 2.6–3.4× slower than
    its VNNI ones (docs/speed.md).
    It cannot be undone in the process, reaches its children, and acts only if it comes before the
    first XNNPACK delegate of the process (XNNPACK reads the CPU once)."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        raise RuntimeError(f"denying AMX needs Linux on x86-64, not {sys.platform} on {platform.machine()}")
    program = [(_LD_W_ABS, 0, 0, 4), (_JEQ_K, 0, 5, _AUDIT_ARCH_X86_64),     # seccomp_data.arch, else allow
               (_LD_W_ABS, 0, 0, 0), (_JEQ_K, 0, 3, _SYS_ARCH_PRCTL),        # .nr
               (_LD_W_ABS, 0, 0, 16), (_JEQ_K, 0, 1, _ARCH_REQ_XCOMP_PERM),  # low word of .args[0]
               (_RET_K, 0, 0, _SECCOMP_RET_ERRNO | _EPERM), (_RET_K, 0, 0, _SECCOMP_RET_ALLOW)]
    code = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *op) for op in program))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    fprog = SockFprog(len(program), ctypes.addressof(code))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) or \
            libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0):
        raise RuntimeError(f"the kernel refused the seccomp filter that denies AMX (errno {ctypes.get_errno()})")
