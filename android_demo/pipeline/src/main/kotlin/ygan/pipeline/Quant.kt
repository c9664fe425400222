package ygan.pipeline

/** Integer I/O of a full-int8 model: real = (q − zeroPoint)·scale, from the manifest's tensor entry. */
data class Quant(val scale: Float, val zeroPoint: Int, val min: Int = -128, val max: Int = 127) {
    /** Rounded half to even and clipped, as the reference runtime does. */
    fun quantise(x: Float): Int = Math.rint((x / scale + zeroPoint.toFloat()).toDouble()).toInt().coerceIn(min, max)

    fun dequantise(q: Int): Float = (q - zeroPoint).toFloat() * scale

    companion object {
        fun forDtype(dtype: String, scale: Float, zeroPoint: Int): Quant = when (dtype) {
            "int8" -> Quant(scale, zeroPoint, -128, 127)
            "uint8" -> Quant(scale, zeroPoint, 0, 255)
            else -> throw IllegalArgumentException("no integer quantisation for dtype '$dtype'")
        }
    }
}
