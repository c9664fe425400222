"""MIL blob storage v2 (`weights/weight.bin`): a 64-byte header, then per blob 64 bytes of metadata and its data.

Layout (coremltools mlmodel/src/MILBlob/Blob/StorageFormat.hpp), little-endian:
  storage_header: u32 count, u32 version (=2), 7 × u64 reserved
  blob_metadata:  u32 sentinel (0xDEADBEEF), u32 dtype, u64 sizeInBytes, u64 data offset, 5 × u64 reserved
A MIL value refers to a blob by the file offset of its metadata.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

SENTINEL = 0xDEADBEEF
HEADER = struct.Struct("<II")
METADATA = struct.Struct("<IIQQ")

# BlobDataType (MILBlob/Blob/BlobDataType.hpp) → numpy dtype; sub-byte types are returned as packed uint8.
DTYPES = {1: np.float16, 2: np.float32, 3: np.uint8, 4: np.int8, 6: np.int16, 7: np.uint16,
          14: np.int32, 15: np.uint32}
SUB_BYTE_BITS = {8: 4, 9: 1, 10: 2, 11: 4, 12: 3, 13: 6}  # Int4, UInt1, UInt2, UInt4, UInt3, UInt6


class BlobFile:
    """One weight file, read once; `read(offset)` returns the blob whose metadata starts at offset."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.data = self.path.read_bytes()
        if len(self.data) < 64:
            raise ValueError(f"{self.path}: too short for MIL blob storage")
        count, version = HEADER.unpack_from(self.data, 0)
        if version != 2:
            raise ValueError(f"{self.path}: MIL blob storage version {version}, only version 2 is supported")
        self.count = count

    def read(self, offset: int) -> tuple[int, np.ndarray]:
        """(blob dtype code, the raw array): typed for whole-byte types, packed uint8 for sub-byte ones."""
        if offset + METADATA.size > len(self.data):
            raise ValueError(f"{self.path}: blob offset {offset} is past the end of the file")
        sentinel, dtype, size, start = METADATA.unpack_from(self.data, offset)
        if sentinel != SENTINEL:
            raise ValueError(f"{self.path}: no blob metadata at offset {offset} (sentinel {sentinel:#x})")
        if start + size > len(self.data):
            raise ValueError(f"{self.path}: blob at offset {offset} runs past the end of the file")
        if dtype in DTYPES:
            return dtype, np.frombuffer(self.data, DTYPES[dtype], count=size // np.dtype(DTYPES[dtype]).itemsize, offset=start)
        if dtype in SUB_BYTE_BITS:
            return dtype, np.frombuffer(self.data, np.uint8, count=size, offset=start)
        raise ValueError(f"{self.path}: blob at offset {offset} has unsupported data type code {dtype}")


def unpack_bits(packed: np.ndarray, nbits: int, count: int, signed: bool = False) -> np.ndarray:
    """`count` nbits-wide integers packed LSB first (the MIL convention for sub-byte data)."""
    bits = np.unpackbits(np.ascontiguousarray(packed, np.uint8), bitorder="little")
    if bits.size < count * nbits:
        raise ValueError(f"{bits.size} packed bits hold fewer than {count} values of {nbits} bits")
    bits = bits[: count * nbits].reshape(count, nbits).astype(np.int32)
    values = (bits << np.arange(nbits, dtype=np.int32)).sum(axis=1)
    if signed:
        values = np.where(values >= 1 << (nbits - 1), values - (1 << nbits), values)
    return values
