package ygan.pipeline

import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * What crosses the interpreter boundary: float32 patches in and out, or int8/uint8 with the
 * manifest's scale and zero point. The app hands these buffers to LiteRT and touches no numbers.
 */
object TensorIo {
    fun bytesPerValue(spec: TensorSpec): Int = if (spec.dtype == "float32") 4 else 1

    fun encode(values: FloatArray, spec: TensorSpec, into: ByteBuffer? = null): ByteBuffer {
        val buf = into ?: ByteBuffer.allocateDirect(values.size * bytesPerValue(spec)).order(ByteOrder.nativeOrder())
        buf.clear()
        val q = spec.quant
        if (q == null) for (v in values) buf.putFloat(v) else for (v in values) buf.put(q.quantise(v).toByte())
        buf.rewind()
        return buf
    }

    fun decode(buf: ByteBuffer, spec: TensorSpec, count: Int): FloatArray {
        buf.rewind()
        val q = spec.quant
        return if (q == null) FloatArray(count) { buf.float }
        else FloatArray(count) {
            val raw = buf.get().toInt()
            q.dequantise(if (spec.dtype == "uint8") raw and 0xFF else raw)
        }
    }
}

/** Camera and screen pixels (ARGB ints) to and from the pipeline's RGB frames. */
object Argb {
    fun toFrame(argb: IntArray, width: Int, height: Int): Frame {
        val rgb = ByteArray(width * height * 3)
        for (i in 0 until width * height) {
            val p = argb[i]
            rgb[i * 3] = (p shr 16).toByte()
            rgb[i * 3 + 1] = (p shr 8).toByte()
            rgb[i * 3 + 2] = p.toByte()
        }
        return Frame(height, width, rgb)
    }

    fun fromRgb(rgb: ByteArray, width: Int, height: Int): IntArray = IntArray(width * height) { i ->
        (0xFF shl 24) or ((rgb[i * 3].toInt() and 0xFF) shl 16) or ((rgb[i * 3 + 1].toInt() and 0xFF) shl 8) or
            (rgb[i * 3 + 2].toInt() and 0xFF)
    }
}
