package ygan.pipeline

import java.io.File
import java.io.RandomAccessFile
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel
import java.security.MessageDigest

/**
 * A model file mapped for the interpreter and checked on the mapped bytes themselves.
 *
 * Why not trust Bundle.read's check: that hashed the file at start-up; the interpreter reads the
 * mapping, later. Hashing the mapping that is handed over leaves no window in which another file
 * (or other bytes) could take its place.
 */
object ModelFile {
    fun map(bundle: Bundle, artifact: Artifact): ByteBuffer {
        val file = File(bundle.root, artifact.path)
        if (!file.isFile) throw ManifestException("${artifact.path}: not a file in ${bundle.root}: copy the bundle again")
        val mapped = RandomAccessFile(file, "r").use { it.channel.map(FileChannel.MapMode.READ_ONLY, 0, it.length()) }
        val digest = MessageDigest.getInstance("SHA-256")
        digest.update(mapped.duplicate())
        val actual = Hashing.hex(digest.digest())
        if (actual != artifact.sha256)
            throw ManifestException("${artifact.path}: sha256 ${actual.take(12)}… of the mapped file does not match the manifest's: " +
                "the file changed after the bundle was read; copy the bundle again")
        return mapped.order(ByteOrder.nativeOrder())
    }
}

/**
 * The app's model class without the interpreter: the artifact's input and output buffers, filled and
 * read with TensorIo, around `invoke(input, output)` — LiteRT's Interpreter.run on a phone, anything
 * with that contract in a test.
 */
class BufferedPatchModel(artifact: Artifact, private val invoke: (ByteBuffer, ByteBuffer) -> Unit) : PatchModel {
    private val input = artifact.input
    private val output = artifact.output
    private val inCount = input.shape.fold(1) { a, b -> a * b }
    private val outCount = output.shape.fold(1) { a, b -> a * b }
    private val inBuf: ByteBuffer = ByteBuffer.allocateDirect(inCount * TensorIo.bytesPerValue(input)).order(ByteOrder.nativeOrder())
    private val outBuf: ByteBuffer = ByteBuffer.allocateDirect(outCount * TensorIo.bytesPerValue(output)).order(ByteOrder.nativeOrder())

    override fun run(batch: FloatArray): FloatArray {
        require(batch.size == inCount) { "a batch of ${batch.size} values, the model takes $inCount (${input.shape})" }
        TensorIo.encode(batch, input, inBuf)
        outBuf.clear()
        invoke(inBuf, outBuf)
        return TensorIo.decode(outBuf, output, outCount)
    }
}
