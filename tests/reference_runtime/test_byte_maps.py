"""A byte map gives its table's bytes whichever route it takes, and takes the quick one for the
tables the project's integer artifacts have."""

import numpy as np
import pytest

from reference_runtime.backends import PIXEL_BYTES, byte_tables
from reference_runtime.byte_maps import ByteMap
from reference_runtime.pipeline import quantise

PIXEL_TENSOR = {"dtype": "int8", "scale": float(np.float32(2 / 255)), "zero_point": 0, PIXEL_BYTES: True}
TANH_TENSOR = {"dtype": "int8", "scale": 1 / 128, "zero_point": 0}
CALIBRATED = {"dtype": "int8", "scale": float(np.float32(2 / 255)), "zero_point": -1}


def tables(inp: dict, out: dict) -> tuple[np.ndarray, np.ndarray]:
    encode, dequantised, _ = byte_tables(inp, out)
    return encode, quantise(dequantised)


def check(table: np.ndarray) -> str:
    """Applies the map to odd and even sizes and compares with the table itself."""
    rng = np.random.default_rng(0)
    bm = ByteMap(table)
    for shape in ((7, 32, 32, 3), (5, 5, 3), (1,)):
        src = rng.integers(0, 256, shape).astype(np.uint8).view(table.dtype)
        out = np.empty(shape, table.dtype)
        bm.apply(src, out)
        np.testing.assert_array_equal(out.view(np.uint8), table.view(np.uint8)[src.view(np.uint8)])
    return bm.form


def test_pixel_bytes_are_a_sign_flip_both_ways():
    encode, decode = tables(PIXEL_TENSOR, PIXEL_TENSOR)
    assert check(encode) == "sign flip"
    assert check(decode) == "sign flip"


def test_tanh_output_drops_the_top_half_by_one():
    _, decode = tables(PIXEL_TENSOR, TANH_TENSOR)
    assert check(decode) == "sign flip, drop above 128"
    assert decode[0] == 128 and decode[1] == 128 and decode[127] == 254  # 1/128 → pixel 128; 127/128 → 254


def test_other_tables_are_looked_up():
    encode, decode = tables(CALIBRATED, CALIBRATED)  # the converter's zero point −1: half a step off
    assert check(encode) == "lookup"
    assert check(decode) == "lookup"


def test_one_entry_off_a_form_is_looked_up():
    table = (np.arange(256) ^ 0x80).astype(np.uint8)
    table[17] += 1
    assert check(table) == "lookup"


def test_a_table_must_be_256_single_bytes():
    with pytest.raises(ValueError, match="256 one-byte entries"):
        ByteMap(np.zeros(255, np.uint8))
    with pytest.raises(ValueError, match="256 one-byte entries"):
        ByteMap(np.zeros(256, np.int16))
