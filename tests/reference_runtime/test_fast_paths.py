"""Each fast path of reference_runtime/fast_paths.py gives the general path's bytes (its proof, named
in FAST_PATHS), the dispatch takes it exactly where it applies, and the byte tables and a workspace
kept across frames change no byte."""

from __future__ import annotations

import ast
import dataclasses

import numpy as np
import pytest

from conftest import ROOT, conv_pair
from reference_runtime import fast_paths
from reference_runtime import pipeline as np_pipe
from reference_runtime.fast_paths import (EDGE_BANDS, EDGE_BANDS_BYTES, EXACT_TILING, EXACT_TILING_BYTES, FAST_PATHS,
                                          fast_path)


def conv_model(seed: int):
    """conftest's numpy conv model on NCHW batches, and the same model on NHWC."""
    nchw = conv_pair(seed)[1]
    return nchw, lambda x: nchw(x.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1)


def frame(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def general_path(img: np.ndarray, models: list, **kw) -> np.ndarray:
    return np_pipe.quantise(np_pipe.render_float(img, models, **kw))


def test_every_fast_path_names_a_proof_that_exists():
    for path in FAST_PATHS:
        file, _, name = path.proof.partition("::")
        tree = ast.parse((ROOT / file).read_text(encoding="utf-8"))
        assert name in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}, path


@pytest.mark.parametrize("shape, stride, theme_map, integer, layout, expected", [
    ((32, 48, 3), 8, 0, False, "NCHW", EXACT_TILING),
    ((32, 48, 3), 8, 0, True, "NCHW", EXACT_TILING),  # an integer model driven on floats
    ((32, 48, 3), 8, 0, True, "NHWC", EXACT_TILING_BYTES),
    ((20, 28, 3), 8, 0, False, "NHWC", EDGE_BANDS),
    ((20, 28, 3), 8, 0, True, "NHWC", EDGE_BANDS_BYTES),
    ((32, 48, 3), 4, 0, True, "NHWC", None),  # overlapping patches: blended
    ((32, 48, 3), 8, np.zeros((4, 6), int), True, "NHWC", None),  # a theme map
    ((5, 28, 3), 8, 0, True, "NHWC", None),  # shorter than the patch: padded
])
def test_the_dispatch_takes_each_fast_path_where_it_applies(shape, stride, theme_map, integer, layout, expected):
    model = integer_pair()[0] if integer else (lambda x: x)
    assert fast_path(shape, [model], 8, stride, theme_map, layout) is expected


def _same_bytes_by(path, layout: str, blend: str, h: int, w: int, batch: int) -> None:
    """A conv model on an h×w frame at S = P = 8 takes `path` and gives the general path's bytes."""
    model = conv_model(7)[layout == "NHWC"]
    img = frame(h, w, seed=batch)
    kw = dict(patch=8, stride=8, blend=blend, batch=batch, layout=layout)
    assert fast_path(img.shape, [model], 8, 8, 0, layout) is path
    got = fast_paths.render_frame(img, [model], **kw)
    assert np.array_equal(got, general_path(img, [model], **kw))
    assert not np.array_equal(got, img)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("blend", ["feather", "paste"])
@pytest.mark.parametrize("h,w,batch", [(32, 48, 16), (48, 16, 5), (8, 8, 3)])
def test_exact_tiling_path_equals_the_general_path(layout, blend, h, w, batch):
    """S = P dividing both sides: tiling and blending are permutations of the uint8 frame; no bit changes."""
    _same_bytes_by(EXACT_TILING, layout, blend, h, w, batch)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("blend", ["feather", "paste"])
@pytest.mark.parametrize("h,w,batch", [(20, 28, 5), (24, 13, 4), (11, 16, 3)])
def test_edge_bands_path_equals_the_general_path(layout, blend, h, w, batch):
    """S = P on sides P does not divide: the exact tiling of the multiple-of-P core, float bands for
    the overlapping last row and column; no bit changes."""
    _same_bytes_by(EDGE_BANDS, layout, blend, h, w, batch)


IN8 = {"dtype": "int8", "scale": float(np.float32(2 / 255)), "zero_point": -1}  # as onnx2tf calibrates [-1, 1]
OUT8 = {"dtype": "int8", "scale": 1 / 128, "zero_point": 0}


def integer_pair():
    """A byte-level patch model (a fixed channel mix with saturation, NHWC) as an IntegerModel and
    as the float model an app would run without tables: quantise, run, dequantise."""
    from reference_runtime.backends import byte_tables, dequantise, quantise

    def run(q):
        mixed = (3 * q.astype(np.int16) - np.roll(q, 1, axis=-1).astype(np.int16)) // 2 + 5
        return np.clip(mixed, -128, 127).astype(np.int8)

    def as_float(x):
        return dequantise(run(quantise(x, IN8)), OUT8)

    return np_pipe.IntegerModel(run, *byte_tables(IN8, OUT8), as_float), as_float


@pytest.mark.parametrize("h,w,patch,batch", [(32, 48, 8, 16), (16, 8, 8, 3), (10, 15, 5, 3), (10, 15, 5, 4)])
def test_integer_model_gives_the_bytes_of_the_float_path(h, w, patch, batch):
    """Byte tables replace normalise → quantise and dequantise → round exactly, with two bytes per
    lookup (even chunk sizes) or one (odd: 5·5·3·3), and a zero-padded last chunk (10×15 at batch 4)."""
    integer, as_float = integer_pair()
    img = frame(h, w, seed=patch + batch)
    kw = dict(patch=patch, stride=patch, blend="feather", batch=batch, layout="NHWC")
    assert fast_path(img.shape, [integer], patch, patch, 0, "NHWC") is EXACT_TILING_BYTES
    got = fast_paths.render_frame(img, [integer], **kw)
    assert np.array_equal(got, fast_paths.render_frame(img, [as_float], **kw))
    assert np.array_equal(got, general_path(img, [as_float], **kw))
    assert not np.array_equal(got, img)
    overlapping = dict(kw, stride=patch - 1)  # the blending path runs the integer model on floats
    assert np.array_equal(fast_paths.render_frame(img, [integer], **overlapping),
                          fast_paths.render_frame(img, [as_float], **overlapping))


@pytest.mark.parametrize("h,w", [(20, 24), (16, 28), (20, 28), (9, 8)])
@pytest.mark.parametrize("blend", np_pipe.BLENDS)
def test_integer_model_on_sides_not_multiples_of_p_runs_each_patch_once(h, w, blend):
    """The edge bands (bottom only, right only, both with their corner) blended from the outputs
    already run: the float path's bytes, with one model call per B patches of the grid."""
    integer, as_float = integer_pair()
    batches = []

    def run(q):
        batches.append(len(q))
        return integer.run(q)

    img = frame(h, w, seed=h + w)
    kw = dict(patch=8, stride=8, blend=blend, batch=3, layout="NHWC")
    assert fast_path(img.shape, [integer], 8, 8, 0, "NHWC") is EDGE_BANDS_BYTES
    got = fast_paths.render_frame(img, [dataclasses.replace(integer, run=run)], **kw)
    assert np.array_equal(got, general_path(img, [as_float], **kw))
    assert not np.array_equal(got, img)
    patches = len(np_pipe.positions(h, 8, 8)) * len(np_pipe.positions(w, 8, 8))
    assert len(batches) == -(-patches // 3)


def test_integer_model_tables_are_what_the_float_path_computes():
    from reference_runtime.backends import byte_tables, dequantise, quantise

    encode, values, padding = byte_tables(IN8, OUT8)
    decode = np_pipe.IntegerModel(lambda q: q, encode, values, padding, lambda x: x).decode
    pixels = np.arange(256, dtype=np.uint8)
    assert np.array_equal(encode, quantise(np_pipe.normalise(pixels), IN8)) and encode.dtype == np.int8
    outputs = pixels.view(np.int8)
    assert np.array_equal(values, dequantise(outputs, OUT8)) and values[np.int8(-128).view(np.uint8)] == -1.0
    assert np.array_equal(decode, np_pipe.quantise(dequantise(outputs, OUT8)))
    assert decode[np.uint8(0)] == 128 and decode[np.int8(-128).view(np.uint8)] == 0 and padding == -1
    with pytest.raises(ValueError, match="256 entries"):
        np_pipe.IntegerModel(lambda q: q, encode[:10], values, padding, lambda x: x)


PIXEL8 = {"dtype": "int8", "scale": float(np.float32(2 / 255)), "zero_point": 0, "pixel_bytes": True}


def test_pixel_bytes_tensors_read_the_byte_as_signed_both_ways():
    """docs/pipeline.md, "Integer artifacts": q = u8 − 128 in, u8 = q + 128 out, so the tables of an
    identity give back every byte; the converter's own calibration (zero point −1, ties rounded to
    even) changed half of them."""
    from reference_runtime.backends import byte_tables, dequantise, quantise

    pixels = np.arange(256, dtype=np.uint8)
    encode, values, padding = byte_tables(PIXEL8, PIXEL8)
    decode = np_pipe.IntegerModel(lambda q: q, encode, values, padding, lambda x: x).decode
    assert np.array_equal(encode.astype(int), pixels.astype(int) - 128) and padding == 0
    assert np.array_equal(decode.astype(int), pixels.view(np.int8).astype(int) + 128)  # indexed by the output byte
    assert np.array_equal(decode[encode.view(np.uint8)], pixels)  # an identity model is exact
    calibrated = {"dtype": "int8", "scale": PIXEL8["scale"], "zero_point": -1}
    encode, values, _ = byte_tables(calibrated, calibrated)
    assert np.mean(np_pipe.quantise(values[encode.view(np.uint8)]) != pixels) > 0.5
    x = np.random.default_rng(0).uniform(-1.2, 1.2, 10_000).astype(np.float32)  # off the pixel grid: floor
    assert np.array_equal(quantise(x, PIXEL8), np.clip(np.floor(x / np.float32(PIXEL8["scale"])), -128, 127))
    codes = np.arange(-128, 128).astype(np.int8)
    assert np.allclose(dequantise(codes, PIXEL8), (codes + 0.5) * PIXEL8["scale"], atol=1e-7)


def test_pixel_bytes_identity_is_exact_on_every_path():
    """An identity integer model with pixel-bytes I/O renders the input frame on the byte fast paths
    and on the blending path (floats through quantise/dequantise)."""
    from reference_runtime.backends import byte_tables, dequantise, quantise

    def as_float(x):
        return dequantise(quantise(x, PIXEL8), PIXEL8)

    identity = np_pipe.IntegerModel(lambda q: q.copy(), *byte_tables(PIXEL8, PIXEL8), as_float)
    img = frame(20, 28, seed=5)
    for stride, path in ((8, EDGE_BANDS_BYTES), (4, None)):
        kw = dict(patch=8, stride=stride, blend="feather", batch=3, layout="NHWC")
        assert fast_path(img.shape, [identity], 8, stride, 0, "NHWC") is path
        assert np.array_equal(fast_paths.render_frame(img, [identity], **kw), img)
        assert np.array_equal(general_path(img, [as_float], **kw), img)


def test_a_workspace_kept_across_frames_changes_no_byte_and_clocks_the_conversion():
    nchw, _ = conv_model(3)
    integer, as_float = integer_pair()
    ws_float, ws_int = np_pipe.Workspace(), np_pipe.Workspace()
    for seed, (h, w) in enumerate([(32, 32), (32, 32), (24, 40), (20, 36)]):  # same shape, then new ones
        img = frame(h, w, seed=seed)
        kw = dict(patch=8, stride=8, batch=5)
        assert np.array_equal(fast_paths.render_frame(img, [nchw], **kw, workspace=ws_float),
                              fast_paths.render_frame(img, [nchw], **kw))
        assert np.array_equal(fast_paths.render_frame(img, [integer], **kw, layout="NHWC", workspace=ws_int),
                              fast_paths.render_frame(img, [as_float], **kw, layout="NHWC"))
    assert ws_float.seconds["convert"] > 0 and ws_int.seconds["convert"] > 0
    assert {"tiles.u8", "done.u8", "feed"} <= set(ws_float.buffers) and "feed.int" in ws_int.buffers
