package ygan.pipeline

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

/** Hand-worked examples of spec v1 steps 3, 4 and 6, and of the int8 rule. */
class GridTest {
    @Test fun positionsAppendTheEdgePatch() {
        assertArrayEquals(intArrayOf(0, 3, 6), Grid.positions(10, 4, 3))
        assertArrayEquals(intArrayOf(0, 3, 6, 7), Grid.positions(11, 4, 3))
        assertArrayEquals(intArrayOf(0), Grid.positions(4, 4, 4))
    }

    @Test fun windowRampsOverTheOverlap() {
        assertArrayEquals(floatArrayOf(0.25f, 0.75f, 0.75f, 0.25f), Grid.window(4, 2), 0f)
        assertArrayEquals(floatArrayOf(1f, 1f, 1f, 1f), Grid.window(4, 4), 0f)
    }

    @Test fun roundingIsFloorOfHalfUpAfterClipping() {
        assertEquals(0, Pixels.toU8(-1f))
        assertEquals(255, Pixels.toU8(1f))
        assertEquals(255, Pixels.toU8(3f))
        assertEquals(0, Pixels.toU8(-3f))
        assertEquals(128, Pixels.toU8(0f)) // 127.5 + 0.5 = 128
        for (u in 0..255) assertEquals(u, Pixels.toU8(Pixels.normalise(u)))
    }

    @Test fun int8RoundsHalfToEvenAndClips() {
        val q = Quant(scale = 0.5f, zeroPoint = 0)
        assertEquals(0, q.quantise(0.25f))  // 0.5 → 0 (even)
        assertEquals(2, q.quantise(0.75f))  // 1.5 → 2
        assertEquals(2, q.quantise(1.25f))  // 2.5 → 2
        assertEquals(127, q.quantise(1000f))
        assertEquals(-128, q.quantise(-1000f))
        val shifted = Quant(scale = 0.5f, zeroPoint = -1)
        assertEquals(1, shifted.quantise(1f))
        assertEquals(0.5f, shifted.dequantise(0), 0f)
    }

    @Test fun pixelBytesReadTheByteAsSignedBothWays() {
        val q = Quant.forDtype("int8", 2f / 255f, 0, pixelBytes = true)
        for (u in 0..255) {
            assertEquals(u - 128, q.quantise(Pixels.normalise(u)))
            assertEquals(u, Pixels.toU8(q.dequantise(u - 128))) // an identity model gives back every byte
        }
        assertEquals(-1, q.quantise(-0.5f * q.scale)) // off the pixel grid: rounded down
        val calibrated = Quant.forDtype("int8", 2f / 255f, -1)
        assertTrue((0..255).count { Pixels.toU8(calibrated.dequantise(calibrated.quantise(Pixels.normalise(it)))) != it } > 128)
    }

    @Test fun pasteLetsTheLaterPatchWin() {
        // a 1×6 strip of a 4-wide model with stride 2: patches at 0 and 2 overlap at columns 2-3
        val frame = Frame(4, 6, ByteArray(4 * 6 * 3))
        var calls = 0
        val model = PatchModel { x -> calls++; FloatArray(x.size) { i -> (i / (4 * 4 * 3)).toFloat() / 10f } }
        val out = Render.renderFloat(frame, listOf(model), Settings(4, 2, Blend.PASTE, 2, Layout.NHWC))
        assertEquals(1, calls)
        assertEquals(0f, out[0], 0f)          // column 0: first patch only
        assertEquals(0.1f, out[2 * 3], 0f)     // column 2: second patch wins
    }
}

class TensorIoTest {
    @Test fun int8BuffersRoundTripWithinHalfAStep() {
        val spec = TensorSpec("x", listOf(1, 2, 2, 3), "int8", 0.0078431f, -1)
        val values = FloatArray(12) { -0.9f + it * 0.15f }  // inside the int8 range: clipping is tested in GridTest
        val back = TensorIo.decode(TensorIo.encode(values, spec), spec, values.size)
        for (i in values.indices) assertEquals(values[i], back[i], 0.0078431f / 2 + 1e-6f)
    }

    @Test fun floatBuffersAreExact() {
        val spec = TensorSpec("x", listOf(1, 3), "float32", null, null)
        val values = floatArrayOf(-1f, 0.123f, 1f)
        assertArrayEquals(values, TensorIo.decode(TensorIo.encode(values, spec), spec, 3), 0f)
    }

    @Test fun argbAndRgbRoundTrip() {
        val argb = intArrayOf(0xFF102030.toInt(), 0xFFFFFFFF.toInt(), 0xFF000000.toInt(), 0xFF7F80FE.toInt())
        val frame = Argb.toFrame(argb, 2, 2)
        assertEquals(0x10, frame.at(0, 0, 0)); assertEquals(0x30, frame.at(0, 0, 2)); assertEquals(0xFE, frame.at(1, 1, 2))
        assertArrayEquals(argb, Argb.fromRgb(frame.rgb, 2, 2))
    }
}
