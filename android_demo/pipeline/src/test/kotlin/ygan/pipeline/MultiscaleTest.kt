package ygan.pipeline

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

/** Spec v2's integer steps on hand-computed values: block luma, variance, bilinear taps for f = 2 and 4, the budget stop, hysteresis. */
class MultiscaleTest {
    private fun gray(vararg v: Int) = ByteArray(v.size * 3) { v[it / 3].toByte() }
    private fun red(a: ByteArray) = IntArray(a.size / 3) { a[it * 3].toInt() and 0xFF }

    @Test fun blockLumaIsBt601InTwoHundredFiftySixthsOfTheTopLeftPixel() {
        assertArrayEquals(intArrayOf(255), Multiscale.blockLuma(gray(255, 255, 255, 255), 2, 2))  // (256·255 + 128) >> 8
        val block = byteArrayOf(10, 20, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        assertArrayEquals(intArrayOf(18), Multiscale.blockLuma(block, 2, 2))  // (77·10 + 150·20 + 29·30 + 128) >> 8 = 4768 >> 8
        // only the top-left pixel counts: a 4×2 frame, blocks (100, 0, 0, 0) and (0, 200, 200, 200)
        assertArrayEquals(intArrayOf(100, 0), Multiscale.blockLuma(gray(100, 0, 0, 200, 0, 0, 200, 200), 2, 4))
    }

    @Test fun detailIsTheFlooredVarianceOfTheBlockLumas() {
        assertEquals(12192L, Multiscale.detail(255, 255L * 255, 4))  // lumas 255, 0, 0, 0: (4·65025 − 255²) div 16
        assertEquals(0L, Multiscale.detail(4L * 77, 4L * 77 * 77, 4))
        assertEquals(1L, Multiscale.detail(6, 14, 4))  // lumas 0..3: (56 − 36) div 16
        val n = 2048L * 2048  // a 4096-px cell, half its lumas 0, half 255: n·S2 ≈ 5.7·10^17 fits a Long
        assertEquals(16256L, Multiscale.detail(255 * n / 2, 65025 * n / 2, 4096))  // 32512.5 − 127.5² = 16256.25
    }

    @Test fun bilinearTapsForFTwoWeighQuarters() {
        val t = Multiscale.bilinearTaps(4, 2)
        assertArrayEquals(intArrayOf(0, 0, 0, 1), t.lo)
        assertArrayEquals(intArrayOf(0, 1, 1, 1), t.hi)
        assertArrayEquals(intArrayOf(1, 3, 1, 3), t.w0)
        assertArrayEquals(intArrayOf(3, 1, 3, 1), t.w1)
        val cell = red(Multiscale.patchToCell(gray(0, 100, 0, 100), 2, 4))
        assertArrayEquals(IntArray(16) { intArrayOf(0, 25, 75, 100)[it % 4] }, cell)  // 302 >> 2 = 75
    }

    @Test fun bilinearTapsForFFourWeighEighths() {
        val t = Multiscale.bilinearTaps(8, 2)
        assertArrayEquals(intArrayOf(0, 0, 0, 0, 0, 0, 1, 1), t.lo)
        assertArrayEquals(intArrayOf(0, 0, 1, 1, 1, 1, 1, 1), t.hi)
        assertArrayEquals(intArrayOf(5, 7, 1, 3, 5, 7, 1, 3), t.w1)
        assertArrayEquals(intArrayOf(3, 1, 7, 5, 3, 1, 7, 5), t.w0)
        val cell = red(Multiscale.patchToCell(gray(0, 160, 0, 160), 2, 8))
        assertArrayEquals(intArrayOf(0, 0, 20, 60, 100, 140, 160, 160), cell.copyOfRange(0, 8))
    }

    @Test fun toAPatchBoxMeanOrReplicationAndBackByBoxMean() {
        val cell = gray(0, 1, 10, 10, 2, 2, 10, 11, 0, 0, 0, 0, 0, 0, 0, 1)
        assertArrayEquals(intArrayOf(1, 10, 0, 0), red(Multiscale.cellToPatch(cell, 4, 0, 0, 4, 2)))  // 5/4 → 1, 41/4 → 10
        assertArrayEquals(intArrayOf(7, 7, 7, 7), red(Multiscale.cellToPatch(gray(7, 9, 0, 0), 2, 0, 0, 1, 2)))
        assertArrayEquals(intArrayOf(2), red(Multiscale.patchToCell(gray(1, 2, 2, 2), 2, 1)))  // (7 + 2) >> 2
    }

    /** Two cells of 4 (n = 4 blocks) side by side with the given details (S1 = 0, S2 = 4·D), and their children. */
    private fun sums(d0: Long, d1: Long) = listOf(
        CellSums(1, 2, longArrayOf(0, 0), longArrayOf(4 * d0, 4 * d1)), CellSums(2, 4, LongArray(8), LongArray(8)))

    private val base = MultiscaleSettings(2, 4, 2, 64, 16, 512)
    private fun cells(l: CellLayout) = l.leaves.map { listOf(it.top, it.left, it.size) }

    @Test fun theBudgetStopsALevelAtTheFirstCellThatDoesNotFit() {
        val s = base.copy(budget = 5)
        val l = Multiscale.chooseLayout(sums(100, 200), intArrayOf(4, 2), 4, 8, 4, 8, s, null)
        assertEquals(5, l.count)  // the more detailed right cell splits: 2 + 3; the left one would make 8
        assertEquals(listOf(listOf(0, 0, 4), listOf(0, 4, 2), listOf(0, 6, 2), listOf(2, 4, 2), listOf(2, 6, 2)), cells(l))
        val tie = Multiscale.chooseLayout(sums(100, 100), intArrayOf(4, 2), 4, 8, 4, 8, s, null)
        assertEquals(listOf(0, 4, 4), cells(tie)[0])  // equal detail: row-major, the left one splits
    }

    @Test fun cellsWhollyInThePaddingDoNotExist() {
        val l = Multiscale.chooseLayout(sums(0, 200), intArrayOf(4, 2), 3, 6, 4, 8, base.copy(budget = 3), null)
        assertEquals(3, l.count)
        assertEquals(listOf(listOf(0, 0, 4), listOf(0, 4, 2), listOf(2, 4, 2)), cells(l))
    }

    @Test fun hysteresisHoldsASplitDownToTMinusHyAndNeedsTPlusHyForANewOne() {
        val sizes = intArrayOf(4, 2)
        val first = Multiscale.chooseLayout(sums(70, 60), sizes, 4, 8, 4, 8, base, null)  // no state: bar T = 64
        assertEquals(setOf("4:0:0"), first.split)
        val held = Multiscale.chooseLayout(sums(50, 79), sizes, 4, 8, 4, 8, base, first)  // bars 48 and 80
        assertEquals(setOf("4:0:0"), held.split)
        val dropped = Multiscale.chooseLayout(sums(48, 81), sizes, 4, 8, 4, 8, base, held)
        assertEquals(setOf("4:0:4"), dropped.split)
        val changed = Multiscale.chooseLayout(sums(50, 79), sizes, 4, 8, 4, 8, base.copy(budget = 511), first)  // another budget: no state
        assertEquals(setOf("4:0:4"), changed.split)
    }

    @Test fun settingsDefaultToTheSpecAndRefuseBadValuesInOneLine() {
        assertArrayEquals(intArrayOf(128, 64, 32, 16), MultiscaleSettings.from(32, null).sizes)
        try {
            MultiscaleSettings(16, 48, 8, 64, 16, 512)
            fail("a largest cell of 48 with P = 16 was accepted")
        } catch (e: IllegalArgumentException) {
            assertTrue(e.message!!, e.message!!.startsWith("largest cell 48 must be the patch 16 times a power of two"))
        }
        try {
            MultiscaleSettings(16, 64, 8, 8, 9, 512)
            fail("hysteresis above the threshold was accepted")
        } catch (e: IllegalArgumentException) {
            assertTrue(e.message!!, e.message!!.contains("hysteresis 9"))
        }
    }

    @Test fun anIdentityModelReturnsAFlatFrameAndBatchesEverySizeTogether() {
        val calls = ArrayList<Int>()
        val identity = PatchModel { calls.add(it.size); it.copyOf() }
        val frame = Frame(5, 7, ByteArray(5 * 7 * 3) { 77 })
        val out = Multiscale.render(frame, listOf(identity), base, 3, Layout.NHWC)
        assertArrayEquals(frame.rgb, out.rgb)
        assertArrayEquals(intArrayOf(0, 0, 4, 0, 0, 4, 4, 0, 4, 0, 4, 0, 4, 4, 4, 0), out.cells)
        assertEquals(listOf(36, 36), calls)  // 4 cells in chunks of 3, the last zero-padded
    }
}
