package ygan.pipeline

enum class Layout { NCHW, NHWC }

enum class Blend {
    FEATHER, PASTE;

    companion object {
        fun parse(name: String): Blend = when (name) {
            "feather" -> FEATHER
            "paste" -> PASTE
            else -> throw IllegalArgumentException("blend '$name' is not feather or paste")
        }
    }
}

/** A patch model with a fixed batch: takes and returns batch·P·P·3 floats in [-1, 1] in its own layout. */
fun interface PatchModel {
    fun run(batch: FloatArray): FloatArray
}

data class Settings(val patch: Int, val stride: Int, val blend: Blend, val batch: Int, val layout: Layout)

/**
 * Spec v1 (DESIGN §4) end to end. The app calls [renderU8] per camera frame with the interpreter
 * wrapped as a [PatchModel]; everything numeric happens here, where it is tested against the
 * bundle's golden vectors.
 */
object Render {
    /** Blended float output, H×W×3 row-major, before rounding. themes[k] picks the model of patch k (row-major). */
    fun renderFloat(frame: Frame, models: List<PatchModel>, s: Settings, themes: IntArray? = null): FloatArray {
        val p = s.patch
        val ph = maxOf(frame.height, p)
        val pw = maxOf(frame.width, p)
        val x = FloatArray(ph * pw * 3)
        for (y in 0 until ph) for (xx in 0 until pw) for (c in 0 until 3) {
            // edge replication for frames smaller than P (step 2)
            x[(y * pw + xx) * 3 + c] = Pixels.normalise(frame.at(minOf(y, frame.height - 1), minOf(xx, frame.width - 1), c))
        }
        val rows = Grid.positions(ph, p, s.stride)
        val cols = Grid.positions(pw, p, s.stride)
        val count = rows.size * cols.size
        val themeOf = themes ?: IntArray(count)
        require(themeOf.size == count) { "theme map has ${themeOf.size} entries for a ${rows.size}x${cols.size} patch grid" }
        val outputs = arrayOfNulls<FloatArray>(count)
        for (t in themeOf.distinct().sorted()) {
            val members = (0 until count).filter { themeOf[it] == t }
            runBatched(models[t], members.map { k -> crop(x, pw, rows[k / cols.size], cols[k % cols.size], p) }, s)
                .forEachIndexed { i, y -> outputs[members[i]] = y }
        }
        val out = blend(outputs.map { it!! }, rows, cols, ph, pw, s)
        return cropFrame(out, ph, pw, frame.height, frame.width)
    }

    fun renderU8(frame: Frame, models: List<PatchModel>, s: Settings, themes: IntArray? = null): ByteArray =
        Pixels.toU8(renderFloat(frame, models, s, themes))

    /** One patch, P×P×3 (NHWC order). */
    private fun crop(x: FloatArray, pw: Int, r: Int, c: Int, p: Int): FloatArray {
        val out = FloatArray(p * p * 3)
        for (i in 0 until p) System.arraycopy(x, ((r + i) * pw + c) * 3, out, i * p * 3, p * 3)
        return out
    }

    /** Step 7: chunks of B in order, the last zero-padded, its padding outputs dropped. */
    fun runBatched(model: PatchModel, patches: List<FloatArray>, s: Settings): List<FloatArray> {
        val size = s.patch * s.patch * 3
        val out = ArrayList<FloatArray>(patches.size)
        for (start in patches.indices step s.batch) {
            val chunk = FloatArray(s.batch * size)
            val n = minOf(s.batch, patches.size - start)
            for (i in 0 until n) System.arraycopy(patches[start + i], 0, chunk, i * size, size)
            val input = if (s.layout == Layout.NCHW) Layouts.toNchw(chunk, s.batch, s.patch) else chunk
            val result = model.run(input)
            require(result.size == chunk.size) { "patch model returned ${result.size} values for a batch of ${chunk.size}" }
            val y = if (s.layout == Layout.NCHW) Layouts.toNhwc(result, s.batch, s.patch) else result
            for (i in 0 until n) out.add(y.copyOfRange(i * size, (i + 1) * size))
        }
        return out
    }

    /** Step 5: feather = Σ W·y / Σ W in float32 with W = w⊗w; paste = later patches overwrite. */
    private fun blend(outputs: List<FloatArray>, rows: IntArray, cols: IntArray, ph: Int, pw: Int, s: Settings): FloatArray {
        val p = s.patch
        val out = FloatArray(ph * pw * 3)
        if (s.blend == Blend.PASTE) {
            outputs.forEachIndexed { k, y ->
                val r = rows[k / cols.size]
                val c = cols[k % cols.size]
                for (i in 0 until p) System.arraycopy(y, i * p * 3, out, ((r + i) * pw + c) * 3, p * 3)
            }
            return out
        }
        val w = Grid.window(p, s.stride)
        val norm = FloatArray(ph * pw)
        outputs.forEachIndexed { k, y ->
            val r = rows[k / cols.size]
            val c = cols[k % cols.size]
            for (i in 0 until p) for (j in 0 until p) {
                val weight = w[i] * w[j]
                val dst = (r + i) * pw + c + j
                norm[dst] += weight
                for (ch in 0 until 3) out[dst * 3 + ch] += weight * y[(i * p + j) * 3 + ch]
            }
        }
        for (q in norm.indices) for (ch in 0 until 3) out[q * 3 + ch] /= norm[q]
        return out
    }

    private fun cropFrame(out: FloatArray, ph: Int, pw: Int, h: Int, w: Int): FloatArray {
        if (ph == h && pw == w) return out
        val res = FloatArray(h * w * 3)
        for (y in 0 until h) System.arraycopy(out, y * pw * 3, res, y * w * 3, w * 3)
        return res
    }
}

object Layouts {
    fun toNchw(nhwc: FloatArray, n: Int, p: Int): FloatArray {
        val out = FloatArray(nhwc.size)
        for (b in 0 until n) for (i in 0 until p) for (j in 0 until p) for (c in 0 until 3)
            out[((b * 3 + c) * p + i) * p + j] = nhwc[((b * p + i) * p + j) * 3 + c]
        return out
    }

    fun toNhwc(nchw: FloatArray, n: Int, p: Int): FloatArray {
        val out = FloatArray(nchw.size)
        for (b in 0 until n) for (i in 0 until p) for (j in 0 until p) for (c in 0 until 3)
            out[((b * p + i) * p + j) * 3 + c] = nchw[((b * 3 + c) * p + i) * p + j]
        return out
    }
}
