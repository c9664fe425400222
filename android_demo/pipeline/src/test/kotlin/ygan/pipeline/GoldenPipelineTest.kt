package ygan.pipeline

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import kotlin.math.abs

/**
 * Every stand-in case of the bundle's golden/pipeline.npz through this core: floats within 1e-5 of
 * the Python reference, uint8 within one level (exactly with the identity model).
 */
class GoldenPipelineTest {
    private val bundle = BundleFixture.bundle
    private val entry = bundle.golden("pipeline") ?: error("the bundle has no pipeline golden file")
    private val arrays = Npy.readNpz(bundle.file(entry))
    private val cases = entry.getAsJsonArray("cases").map { it.asJsonObject }

    /** docs/bundle.md's stand-ins: identity; affine y = a·x + b per channel; ramp = affine + k·(i − j)/P in the patch. */
    private fun model(case: com.google.gson.JsonObject, layout: Layout, p: Int): PatchModel {
        if (case["model"].asString == "identity") return PatchModel { it.copyOf() }
        val a = case.getAsJsonArray("a").map { it.asFloat }
        val b = case.getAsJsonArray("b").map { it.asFloat }
        val k = if (case["model"].asString == "ramp") case["k"].asFloat else 0f
        return PatchModel { x ->
            FloatArray(x.size) { idx ->
                val c: Int
                val i: Int
                val j: Int
                if (layout == Layout.NHWC) {
                    c = idx % 3; j = (idx / 3) % p; i = (idx / (3 * p)) % p
                } else {
                    j = idx % p; i = (idx / p) % p; c = (idx / (p * p)) % 3
                }
                val affine = a[c] * x[idx] + b[c]
                if (k == 0f) affine else affine + k * (i - j).toFloat() / p.toFloat()
            }
        }
    }

    private fun frame(name: String): Frame {
        val arr = arrays.getValue(name)
        return Frame(arr.shape[0], arr.shape[1], arr.bytes!!)
    }

    private fun check(layout: Layout) {
        assertTrue("no pipeline cases in the bundle", cases.isNotEmpty())
        for (case in cases) {
            val key = case["key"].asString
            val p = case["patch"].asInt
            val s = Settings(p, case["stride"].asInt, Blend.parse(case["blend"].asString), case["batch"].asInt, layout)
            val f = frame(case["frame"].asString)
            val got = Render.renderFloat(f, listOf(model(case, layout, p)), s)
            val want = arrays.getValue("$key.float").floats!!
            assertEquals("$key: size", want.size, got.size)
            var worst = 0f
            for (i in want.indices) worst = maxOf(worst, abs(got[i] - want[i]))
            assertTrue("$key (${case["model"].asString}, stride ${s.stride}, ${case["blend"].asString}): max abs $worst > 1e-5", worst <= 1e-5f)
            val u8 = Pixels.toU8(got)
            val wantU8 = arrays.getValue("$key.u8").bytes!!
            val allowed = if (case["model"].asString == "identity") 0 else 1
            for (i in wantU8.indices) {
                val d = abs((u8[i].toInt() and 0xFF) - (wantU8[i].toInt() and 0xFF))
                assertTrue("$key: uint8 differs by $d at $i (allowed $allowed)", d <= allowed)
            }
        }
    }

    @Test fun everyCaseMatchesWithAnNchwModel() = check(Layout.NCHW)

    @Test fun everyCaseMatchesWithAnNhwcModel() = check(Layout.NHWC)

    @Test fun identityReturnsTheFrameExactly() {
        for (case in cases.filter { it["model"].asString == "identity" }) {
            val f = frame(case["frame"].asString)
            val s = Settings(case["patch"].asInt, case["stride"].asInt, Blend.parse(case["blend"].asString), case["batch"].asInt, Layout.NHWC)
            val out = Render.renderU8(f, listOf(PatchModel { it.copyOf() }), s)
            assertTrue("${case["key"].asString}: identity changed the frame", out.contentEquals(f.rgb))
        }
    }

    @Test fun casesCoverSeveralStridesBothBlendsAndEveryStandIn() {
        assertTrue(cases.map { it["stride"].asInt }.toSet().size >= 2)
        assertEquals(setOf("feather", "paste"), cases.map { it["blend"].asString }.toSet())
        assertEquals(setOf("identity", "affine", "ramp"), cases.map { it["model"].asString }.toSet())
    }
}
