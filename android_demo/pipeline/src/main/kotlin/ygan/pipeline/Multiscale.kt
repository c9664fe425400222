package ygan.pipeline

import com.google.gson.JsonObject

/**
 * Spec v2's parameters (docs/pipeline.md, "multi-scale cells"): cell sizes in pixels from [largest]
 * down to [smallest], the split [threshold] on a cell's block-luma variance, the video [hysteresis]
 * and the [budget] of cells (model inputs) per frame. Bad values are refused in one line.
 */
data class MultiscaleSettings(
    val patch: Int, val largest: Int, val smallest: Int, val threshold: Int, val hysteresis: Int, val budget: Int,
) {
    init {
        require(patch >= 2 && patch % 2 == 0) { "patch $patch: spec v2 needs an even patch size" }
        require(largest % patch == 0 && powerOfTwo(largest / patch)) {
            "largest cell $largest must be the patch $patch times a power of two (e.g. ${4 * patch})"
        }
        require(smallest >= 2 && patch % smallest == 0 && powerOfTwo(patch / smallest)) {
            "smallest cell $smallest must be the patch $patch divided by a power of two, and at least 2 (e.g. ${patch / 2})"
        }
        require(threshold >= 0) { "threshold $threshold must be 0 or more" }
        require(hysteresis in 0..threshold) { "hysteresis $hysteresis must be between 0 and the threshold $threshold" }
        require(budget >= 1) { "budget $budget must be at least 1 cell per frame" }
    }

    /** C_0 = largest, C_1 = largest/2, …, C_K = smallest. */
    val sizes: IntArray get() = generateSequence(largest) { if (it > smallest) it / 2 else null }.toList().toIntArray()

    companion object {
        const val DEFAULT_THRESHOLD = 64
        const val DEFAULT_HYSTERESIS = 16
        const val DEFAULT_BUDGET = 512
        const val DEFAULT_LARGEST_TIMES = 4  // largest cell 4·P
        const val DEFAULT_SMALLEST_DIVISOR = 2  // smallest cell P/2

        private fun powerOfTwo(n: Int) = n >= 1 && (n and (n - 1)) == 0

        /** The manifest's `multiscale` golden entry (or one of its cases); the spec's defaults where it is absent. */
        fun from(patch: Int, o: JsonObject?): MultiscaleSettings {
            fun int(name: String, default: Int) = o?.get(name)?.takeIf { !it.isJsonNull }?.asInt ?: default
            return MultiscaleSettings(
                patch, int("largest_cell", DEFAULT_LARGEST_TIMES * patch), int("smallest_cell", patch / DEFAULT_SMALLEST_DIVISOR),
                int("threshold", DEFAULT_THRESHOLD), int("hysteresis", DEFAULT_HYSTERESIS), int("budget", DEFAULT_BUDGET),
            )
        }
    }
}

/** A square cell of the padded frame, with its step-3 statistics once the layout has looked at it. */
class Cell(val top: Int, val left: Int, val size: Int) {
    var s1 = 0L
    var detail = 0L
    var wasSplit = false
    var split = false
}

/** Step 3's sums on one size's grid of cells, row-major. */
class CellSums(val rows: Int, val cols: Int, val s1: LongArray, val s2: LongArray)

/** A frame's layout: its leaves in paste order, and the split cells the next frame takes as `prev` when [key] matches. */
class CellLayout(val key: String, val split: Set<String>, val leaves: List<Cell>, val count: Int)

/** What a video carries from frame to frame: the previous layout (hysteresis). One per stream of frames. */
class MultiscaleState {
    var previous: CellLayout? = null
}

/** One v2 frame: H×W×3 bytes, the cells K×4 (top, left, size, theme) in paste order and, when asked, each cell's model output K×P×P×3. */
class MultiscaleFrame(val rgb: ByteArray, val cells: IntArray, val floats: FloatArray?)

class Taps(val lo: IntArray, val hi: IntArray, val w0: IntArray, val w1: IntArray)

/**
 * Spec v2 steps 1–10. Everything but the model call and v1's normalisation and rounding around it is
 * integer arithmetic, so this core writes the numpy pipeline's bytes; the model runs behind the v1
 * [PatchModel] interface, in chunks of B by [Render.runBatched].
 */
object Multiscale {
    private val LUMA = intArrayOf(77, 150, 29)  // BT.601 in 256ths

    private fun log2(n: Int) = 31 - Integer.numberOfLeadingZeros(n)

    /** Step 1: edge replication at the bottom and right up to multiples of the largest cell; (H2, W2, bytes). */
    fun padToCells(frame: Frame, largest: Int): Triple<Int, Int, ByteArray> {
        val h2 = (frame.height + largest - 1) / largest * largest
        val w2 = (frame.width + largest - 1) / largest * largest
        if (h2 == frame.height && w2 == frame.width) return Triple(h2, w2, frame.rgb)
        val data = ByteArray(h2 * w2 * 3)
        for (r in 0 until h2) for (c in 0 until w2) {
            System.arraycopy(frame.rgb, (minOf(r, frame.height - 1) * frame.width + minOf(c, frame.width - 1)) * 3, data, (r * w2 + c) * 3, 3)
        }
        return Triple(h2, w2, data)
    }

    /** Step 2: (77·R + 150·G + 29·B + 128) >> 8 of each 2×2 block's top-left pixel, (H2/2)×(W2/2) row-major. */
    fun blockLuma(data: ByteArray, h2: Int, w2: Int): IntArray {
        val cols = w2 / 2
        val y = IntArray(h2 / 2 * cols)
        for (i in 0 until h2 / 2) for (j in 0 until cols) {
            val a = ((2 * i) * w2 + 2 * j) * 3
            y[i * cols + j] = (LUMA[0] * u8(data, a) + LUMA[1] * u8(data, a + 1) + LUMA[2] * u8(data, a + 2) + 128) shr 8
        }
        return y
    }

    /** Step 3: S1 = Σ y and S2 = Σ y² per cell at the smallest size, each larger size the sum of its four children; sizes[k]'s grid at [k]. */
    fun cellSums(y: IntArray, h2: Int, w2: Int, sizes: IntArray): List<CellSums> {
        val k = sizes.last() / 2
        val yCols = w2 / 2
        var rows = h2 / sizes.last()
        var cols = w2 / sizes.last()
        var s1 = LongArray(rows * cols)
        var s2 = LongArray(rows * cols)
        for (i in 0 until h2 / 2) for (j in 0 until yCols) {
            val v = y[i * yCols + j].toLong()
            val at = (i / k) * cols + j / k
            s1[at] += v
            s2[at] += v * v
        }
        val out = ArrayList<CellSums>()
        out.add(CellSums(rows, cols, s1, s2))
        repeat(sizes.size - 1) {
            val r2 = rows / 2
            val c2 = cols / 2
            val t1 = LongArray(r2 * c2)
            val t2 = LongArray(r2 * c2)
            for (r in 0 until rows) for (c in 0 until cols) {
                t1[(r / 2) * c2 + c / 2] += s1[r * cols + c]
                t2[(r / 2) * c2 + c / 2] += s2[r * cols + c]
            }
            rows = r2; cols = c2; s1 = t1; s2 = t2
            out.add(0, CellSums(rows, cols, s1, s2))
        }
        return out
    }

    /** (n·S2 − S1²) div n², n = (C/2)² blocks: the cell's block-luma variance in levels², floored. */
    fun detail(s1: Long, s2: Long, size: Int): Long {
        val n = (size / 2).toLong() * (size / 2)
        return Math.floorDiv(n * s2 - s1 * s1, n * n)
    }

    /** min((m·S1) div (256·n), m − 1): the luminance band of a cell, darkest → theme 0. */
    fun band(s1: Long, size: Int, themes: Int): Int {
        val n = (size / 2).toLong() * (size / 2)
        return minOf(Math.floorDiv(themes * s1, 256 * n), (themes - 1).toLong()).toInt()
    }

    private fun key(size: Int, top: Int, left: Int) = "$size:$top:$left"

    /**
     * Step 4. Level by level, largest first: the live cells of that size whose detail is above their
     * bar (T; with a previous layout T − Hy for cells split then, T + Hy for the others), those split
     * before first, then by detail descending, then row-major, split while the budget holds; the first
     * that would exceed it stops the level.
     */
    fun chooseLayout(sums: List<CellSums>, sizes: IntArray, height: Int, width: Int, h2: Int, w2: Int,
                     s: MultiscaleSettings, prev: CellLayout?): CellLayout {
        val key = listOf(h2, w2, sizes.joinToString("/"), s.threshold, s.hysteresis, s.budget).joinToString(",")
        val was = if (prev != null && prev.key == key) prev.split else null
        var cells = ArrayList<Cell>()
        for (top in 0 until h2 step sizes[0]) for (left in 0 until w2 step sizes[0]) cells.add(Cell(top, left, sizes[0]))
        var count = cells.size
        val split = LinkedHashSet<String>()
        val leaves = ArrayList<Cell>()
        for ((level, size) in sizes.withIndex()) {
            val grid = sums[level]
            for (cell in cells) {
                val at = (cell.top / size) * grid.cols + cell.left / size
                cell.s1 = grid.s1[at]
                cell.detail = detail(grid.s1[at], grid.s2[at], size)
                cell.wasSplit = was != null && key(size, cell.top, cell.left) in was
            }
            if (level == sizes.size - 1) {
                leaves.addAll(cells)
                break
            }
            fun bar(cell: Cell): Long = when {
                was == null -> s.threshold.toLong()
                cell.wasSplit -> (s.threshold - s.hysteresis).toLong()
                else -> (s.threshold + s.hysteresis).toLong()
            }
            val cand = cells.filter { it.detail > bar(it) }.sortedWith(
                compareByDescending<Cell> { it.wasSplit }.thenByDescending { it.detail }.thenBy { it.top }.thenBy { it.left })
            val h = size / 2
            val next = ArrayList<Cell>()
            for (cell in cand) {
                val kids = listOf(0 to 0, 0 to h, h to 0, h to h)
                    .map { (dt, dl) -> Cell(cell.top + dt, cell.left + dl, h) }
                    .filter { it.top < height && it.left < width }
                if (count + kids.size - 1 > s.budget) break
                count += kids.size - 1
                cell.split = true
                split.add(key(size, cell.top, cell.left))
                next.addAll(kids)
            }
            leaves.addAll(cells.filter { !it.split })
            cells = ArrayList(next.sortedWith(compareBy<Cell> { it.top }.thenBy { it.left }))
        }
        return CellLayout(key, split, leaves, count)
    }

    /** Step 6: a cell as a P×P×3 patch — its box mean rounded half up (C ≥ P) or its replication (C < P). */
    fun cellToPatch(data: ByteArray, w2: Int, top: Int, left: Int, size: Int, patch: Int): ByteArray {
        val out = ByteArray(patch * patch * 3)
        if (size >= patch) {
            val f = size / patch
            val shift = 2 * log2(f)
            val half = f * f / 2
            for (i in 0 until patch) for (j in 0 until patch) for (ch in 0 until 3) {
                var acc = half
                for (u in 0 until f) for (v in 0 until f) acc += u8(data, ((top + f * i + u) * w2 + left + f * j + v) * 3 + ch)
                out[(i * patch + j) * 3 + ch] = (acc shr shift).toByte()
            }
            return out
        }
        val g = patch / size
        for (i in 0 until patch) for (j in 0 until patch) {
            System.arraycopy(data, ((top + i / g) * w2 + left + j / g) * 3, out, (i * patch + j) * 3, 3)
        }
        return out
    }

    /** Step 8's taps on one axis of a cell C = P·f: source rows lo, hi and weights w0, w1 in units of 1/(2f). */
    fun bilinearTaps(size: Int, patch: Int): Taps {
        val f = size / patch
        val lo = IntArray(size)
        val hi = IntArray(size)
        val w0 = IntArray(size)
        val w1 = IntArray(size)
        for (t in 0 until size) {
            val num = 2 * t + 1 - f
            val i0 = Math.floorDiv(num, 2 * f)
            val r = num - 2 * f * i0
            lo[t] = i0.coerceIn(0, patch - 1)
            hi[t] = (i0 + 1).coerceIn(0, patch - 1)
            w0[t] = 2 * f - r
            w1[t] = r
        }
        return Taps(lo, hi, w0, w1)
    }

    /** Step 8: a rounded P×P×3 output back to its C×C×3 cell — as is, integer bilinear up (rows first), or box mean down. */
    fun patchToCell(q: ByteArray, patch: Int, size: Int): ByteArray {
        if (size == patch) return q
        val out = ByteArray(size * size * 3)
        if (size < patch) {
            val g = patch / size
            val shift = 2 * log2(g)
            val half = g * g / 2
            for (i in 0 until size) for (j in 0 until size) for (ch in 0 until 3) {
                var acc = half
                for (u in 0 until g) for (v in 0 until g) acc += u8(q, ((g * i + u) * patch + g * j + v) * 3 + ch)
                out[(i * size + j) * 3 + ch] = (acc shr shift).toByte()
            }
            return out
        }
        val f = size / patch
        val shift = 2 * log2(f) + 2
        val half = 2 * f * f
        val t = bilinearTaps(size, patch)
        val h = IntArray(patch * size * 3)
        for (i in 0 until patch) for (v in 0 until size) for (ch in 0 until 3) {
            h[(i * size + v) * 3 + ch] = t.w0[v] * u8(q, (i * patch + t.lo[v]) * 3 + ch) + t.w1[v] * u8(q, (i * patch + t.hi[v]) * 3 + ch)
        }
        for (u in 0 until size) for (v in 0 until size) for (ch in 0 until 3) {
            out[(u * size + v) * 3 + ch] =
                ((t.w0[u] * h[(t.lo[u] * size + v) * 3 + ch] + t.w1[u] * h[(t.hi[u] * size + v) * 3 + ch] + half) shr shift).toByte()
        }
        return out
    }

    /**
     * Steps 1–10: [models] one per theme (several: luminance bands), each behind the v1 interface at
     * the artifact's fixed [batch] and [layout]. [state] carries the layout to the next frame of the
     * same stream (video); null renders a single photograph.
     */
    fun render(frame: Frame, models: List<PatchModel>, s: MultiscaleSettings, batch: Int, layout: Layout,
               state: MultiscaleState? = null, keepFloat: Boolean = false): MultiscaleFrame {
        val p = s.patch
        val sizes = s.sizes
        val (h2, w2, data) = padToCells(frame, sizes[0])
        val sums = cellSums(blockLuma(data, h2, w2), h2, w2, sizes)
        val chosen = chooseLayout(sums, sizes, frame.height, frame.width, h2, w2, s, state?.previous)
        state?.previous = chosen
        val leaves = chosen.leaves
        val theme = IntArray(leaves.size) { if (models.size == 1) 0 else band(leaves[it].s1, leaves[it].size, models.size) }
        val size = p * p * 3
        val done = arrayOfNulls<ByteArray>(leaves.size)
        val floats = if (keepFloat) FloatArray(leaves.size * size) else null
        val v1 = Settings(p, p, Blend.PASTE, batch, layout)
        for (t in models.indices) {
            val members = leaves.indices.filter { theme[it] == t }
            val patches = members.map { k ->
                val c = leaves[k]
                val u8 = cellToPatch(data, w2, c.top, c.left, c.size, p)
                FloatArray(size) { Pixels.normalise(u8[it].toInt() and 0xFF) }
            }
            Render.runBatched(models[t], patches, v1).forEachIndexed { i, y ->
                done[members[i]] = Pixels.toU8(y)
                floats?.let { System.arraycopy(y, 0, it, members[i] * size, size) }
            }
        }
        val out = ByteArray(h2 * w2 * 3)
        val cells = IntArray(leaves.size * 4)
        leaves.forEachIndexed { k, c ->
            val o = patchToCell(done[k]!!, p, c.size)
            for (u in 0 until c.size) System.arraycopy(o, u * c.size * 3, out, ((c.top + u) * w2 + c.left) * 3, c.size * 3)
            cells[4 * k] = c.top; cells[4 * k + 1] = c.left; cells[4 * k + 2] = c.size; cells[4 * k + 3] = theme[k]
        }
        if (h2 == frame.height && w2 == frame.width) return MultiscaleFrame(out, cells, floats)
        val rgb = ByteArray(frame.height * frame.width * 3)
        for (r in 0 until frame.height) System.arraycopy(out, r * w2 * 3, rgb, r * frame.width * 3, frame.width * 3)
        return MultiscaleFrame(rgb, cells, floats)
    }

    private fun u8(a: ByteArray, i: Int) = a[i].toInt() and 0xFF
}
