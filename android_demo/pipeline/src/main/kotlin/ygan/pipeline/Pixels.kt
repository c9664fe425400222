package ygan.pipeline

/** An RGB frame, row-major H×W×3 bytes (unsigned). */
class Frame(val height: Int, val width: Int, val rgb: ByteArray) {
    init {
        require(rgb.size == height * width * 3) { "frame of ${height}x$width needs ${height * width * 3} bytes, got ${rgb.size}" }
    }

    fun at(y: Int, x: Int, c: Int): Int = rgb[(y * width + x) * 3 + c].toInt() and 0xFF
}

/** Spec v1 normalisation and step 6, in float32 exactly as the manifest's `normalisation` and `rounding` say. */
object Pixels {
    fun normalise(u8: Int): Float = u8.toFloat() / 127.5f - 1f

    /** u8 = floor(clip((y + 1)·127.5, 0, 255) + 0.5). */
    fun toU8(y: Float): Int {
        val scaled = ((y + 1f) * 127.5f).coerceIn(0f, 255f)
        return kotlin.math.floor(scaled + 0.5f).toInt()
    }

    fun toU8(y: FloatArray): ByteArray = ByteArray(y.size) { toU8(y[it]).toByte() }
}
