package ygan.pipeline

/**
 * Integer I/O of a full-int8 model: real = (q − zeroPoint)·scale, from the manifest's tensor entry.
 * A pixel-bytes tensor (`"pixel_bytes": true`, scale 2/255, zero point 0: docs/pipeline.md, "Integer
 * artifacts") reads the byte as signed both ways: quantising rounds down, so a pixel value
 * u8/127.5 − 1 (half-way between two codes) becomes u8 − 128, and a code is read at the centre of its
 * level, (q + ½)·scale, which Pixels.toU8 rounds to q + 128.
 */
data class Quant(val scale: Float, val zeroPoint: Int, val min: Int = -128, val max: Int = 127, val pixelBytes: Boolean = false) {
    /** Rounded half to even (down for pixel bytes) and clipped, as the reference runtime does. */
    fun quantise(x: Float): Int {
        val v = (x / scale + zeroPoint.toFloat()).toDouble()
        return (if (pixelBytes) Math.floor(v) else Math.rint(v)).toInt().coerceIn(min, max)
    }

    fun dequantise(q: Int): Float = (q - zeroPoint + if (pixelBytes) 0.5f else 0f) * scale

    companion object {
        fun forDtype(dtype: String, scale: Float, zeroPoint: Int, pixelBytes: Boolean = false): Quant = when (dtype) {
            "int8" -> Quant(scale, zeroPoint, -128, 127, pixelBytes)
            "uint8" -> Quant(scale, zeroPoint, 0, 255, pixelBytes)
            else -> throw IllegalArgumentException("no integer quantisation for dtype '$dtype'")
        }
    }
}
