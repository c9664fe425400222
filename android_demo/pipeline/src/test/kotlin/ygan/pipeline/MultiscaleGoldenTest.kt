package ygan.pipeline

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

/**
 * Every spec v2 stand-in case of the bundle's golden/multiscale.npz through this core, with an NCHW
 * and an NHWC model: the numpy pipeline's cells and bytes exactly — identity, affine and ramp on
 * frames smaller than the largest cell and not a multiple of it, two themes by luminance band, a
 * budget that stops a level, and a still noisy video rendered with its layout carried, whose layout
 * must not change; and the held-out golden frames get the PyTorch pipeline's cells.
 */
class MultiscaleGoldenTest {
    private val bundle = BundleFixture.bundle
    private val entry = bundle.golden("multiscale") ?: error("the bundle has no multiscale golden file")
    private val arrays = Npy.readNpz(bundle.file(entry))
    private val cases = entry.getAsJsonArray("stand_ins").map { it.asJsonObject }

    private fun check(layout: Layout) {
        assertTrue("no spec v2 stand-in cases in the bundle", cases.isNotEmpty())
        for (case in cases) {
            val key = case["key"].asString
            val p = case["patch"].asInt
            val s = MultiscaleSettings.from(p, case)
            val models = case.getAsJsonArray("models").map { StandIns.model(it.asString, case, layout, p) }
            val state = MultiscaleState()
            val layouts = ArrayList<IntArray>()
            case.getAsJsonArray("frames").map { it.asString }.forEachIndexed { f, name ->
                val arr = arrays.getValue(name)
                val got = Multiscale.render(Frame(arr.shape[0], arr.shape[1], arr.bytes!!), models, s, case["batch"].asInt, layout, state)
                assertArrayEquals("$key frame $f ($name): cells", arrays.getValue("$key.layout.$f").ints!!, got.cells)
                val want = arrays.getValue("$key.u8.$f").bytes!!
                assertEquals("$key frame $f: size", want.size, got.rgb.size)
                val differ = want.indices.count { want[it] != got.rgb[it] }
                assertEquals("$key frame $f ($name, ${case["models"]}): bytes that differ", 0, differ)
                layouts.add(got.cells)
            }
            for (cells in layouts) assertArrayEquals("$key: the still video's layout changed", layouts[0], cells)
        }
    }

    @Test fun everyCaseMatchesWithAnNchwModel() = check(Layout.NCHW)

    @Test fun everyCaseMatchesWithAnNhwcModel() = check(Layout.NHWC)

    /** The layout needs no model (docs/pipeline.md): the held-out golden frames get the PyTorch pipeline's cells. */
    @Test fun theGoldenFramesGetThePyTorchCells() {
        val s = MultiscaleSettings.from(bundle.pipeline.patch, entry)
        val frames = arrays.keys.filter { Regex("frame\\.\\d+").matches(it) }
        assertTrue("no golden frames", frames.isNotEmpty())
        for (name in frames) {
            val arr = arrays.getValue(name)
            val got = Multiscale.render(Frame(arr.shape[0], arr.shape[1], arr.bytes!!), listOf(PatchModel { it.copyOf() }), s,
                entry["batch"].asInt, Layout.NHWC)
            assertArrayEquals("$name: cells", arrays.getValue(name.replace("frame", "layout")).ints!!, got.cells)
        }
    }

    @Test fun casesCoverEveryStandInThemesABudgetAndAVideo() {
        assertEquals(setOf("identity", "affine", "ramp"), cases.flatMap { c -> c.getAsJsonArray("models").map { it.asString } }.toSet())
        assertTrue("no case with two themes", cases.any { it.getAsJsonArray("models").size() > 1 })
        assertTrue("no video case", cases.any { it.getAsJsonArray("frames").size() > 1 })
        assertTrue("no case with a tight budget", cases.any { it["budget"].asInt < entry["budget"].asInt })
    }

    @Test fun theManifestRecordsTheSettings() {
        val s = MultiscaleSettings.from(bundle.pipeline.patch, entry)
        assertEquals(entry["largest_cell"].asInt, s.largest)
        assertEquals(entry["budget"].asInt, s.budget)
        assertEquals(MultiscaleSettings.from(bundle.pipeline.patch, null), s)  // the bundle's goldens are at the spec's defaults
    }
}
