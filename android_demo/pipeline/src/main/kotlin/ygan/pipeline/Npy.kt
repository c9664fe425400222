package ygan.pipeline

import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.util.zip.ZipFile

/** One array of a golden .npz: little-endian float32, int32 (spec v2's cell layouts) or uint8, C order. */
class NdArray(val shape: IntArray, val floats: FloatArray?, val bytes: ByteArray?, val ints: IntArray? = null) {
    val size: Int get() = shape.fold(1) { a, b -> a * b }
}

/**
 * Golden vectors are uncompressed .npz files (a zip of .npy files, docs/bundle.md); this reads the
 * three dtypes they use. Anything else (object arrays, Fortran order, big-endian) is refused.
 */
object Npy {
    fun readNpz(file: File): Map<String, NdArray> = ZipFile(file).use { zip ->
        zip.entries().asSequence().filter { it.name.endsWith(".npy") }.associate { entry ->
            entry.name.removeSuffix(".npy") to parse(zip.getInputStream(entry).readBytes(), "${file.name}:${entry.name}")
        }
    }

    fun parse(data: ByteArray, what: String): NdArray {
        require(data.size > 10 && data[0] == 0x93.toByte() && String(data, 1, 5, Charsets.US_ASCII) == "NUMPY") { "$what: not a .npy array" }
        val major = data[6].toInt()
        val headerLen: Int
        val start: Int
        if (major == 1) {
            headerLen = (data[8].toInt() and 0xFF) or ((data[9].toInt() and 0xFF) shl 8)
            start = 10
        } else {
            headerLen = ByteBuffer.wrap(data, 8, 4).order(ByteOrder.LITTLE_ENDIAN).int
            start = 12
        }
        val header = String(data, start, headerLen, Charsets.US_ASCII)
        val descr = Regex("'descr':\\s*'([^']+)'").find(header)?.groupValues?.get(1) ?: error("$what: no descr in $header")
        require(!header.contains("'fortran_order': True")) { "$what: Fortran order is not supported" }
        val shapeText = Regex("'shape':\\s*\\(([^)]*)\\)").find(header)?.groupValues?.get(1) ?: error("$what: no shape in $header")
        val shape = shapeText.split(",").map { it.trim() }.filter { it.isNotEmpty() }.map { it.toInt() }.toIntArray()
        val offset = start + headerLen
        val n = shape.fold(1) { a, b -> a * b }
        return when (descr) {
            "<f4" -> {
                val buf = ByteBuffer.wrap(data, offset, n * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
                NdArray(shape, FloatArray(n).also { buf.get(it) }, null)
            }
            "<i4" -> {
                val buf = ByteBuffer.wrap(data, offset, n * 4).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer()
                NdArray(shape, null, null, IntArray(n).also { buf.get(it) })
            }
            "|u1" -> NdArray(shape, null, data.copyOfRange(offset, offset + n))
            else -> throw IllegalArgumentException("$what: dtype $descr is not float32, int32 or uint8")
        }
    }
}
