"""reference_runtime.cpu: denying AMX fails XNNPACK's permission request and nothing else."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from conftest import ROOT

# In a child: seccomp filters last as long as the process does.
PROBE = """
import ctypes
from reference_runtime.cpu import deny_amx
libc = ctypes.CDLL(None, use_errno=True)
deny_amx()
request = libc.syscall(158, 0x1023, 18)           # ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA: what XNNPACK asks
errno = ctypes.get_errno()
mask = ctypes.c_uint64()
query = libc.syscall(158, 0x1022, ctypes.byref(mask))  # ARCH_GET_XCOMP_PERM: another arch_prctl, still allowed
print(request, errno, query)
"""


@pytest.mark.skipif(sys.platform != "linux" or platform.machine() != "x86_64", reason="AMX permission is Linux x86-64")
def test_deny_amx_fails_the_amx_permission_request_with_eperm_and_leaves_other_calls_alone():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    assert out == ["-1", "1", "0"]
