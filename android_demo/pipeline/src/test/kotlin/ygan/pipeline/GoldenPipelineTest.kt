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
            val got = Render.renderFloat(f, listOf(StandIns.model(case["model"].asString, case, layout, p)), s)
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
