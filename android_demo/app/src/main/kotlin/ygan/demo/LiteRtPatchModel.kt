package ygan.demo

import android.content.Context
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.gpu.GpuDelegate
import org.tensorflow.lite.nnapi.NnApiDelegate
import ygan.pipeline.Artifact
import ygan.pipeline.PatchModel
import ygan.pipeline.TensorIo
import java.io.Closeable
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel

enum class Accelerator { CPU, GPU, NNAPI }

/** One TFLite patch-model artifact behind the pipeline's PatchModel: buffers in, buffers out, nothing computed here. */
class LiteRtPatchModel(context: Context, artifact: Artifact, accelerator: Accelerator, threads: Int = 2) : PatchModel, Closeable {
    private val delegate = when (accelerator) {
        Accelerator.GPU -> GpuDelegate()
        Accelerator.NNAPI -> NnApiDelegate()
        Accelerator.CPU -> null
    }
    private val interpreter: Interpreter
    private val input = artifact.input
    private val output = artifact.output
    private val count = artifact.input.shape.fold(1) { a, b -> a * b }
    private val inBuf: ByteBuffer = ByteBuffer.allocateDirect(count * TensorIo.bytesPerValue(input)).order(ByteOrder.nativeOrder())
    private val outBuf: ByteBuffer = ByteBuffer.allocateDirect(count * TensorIo.bytesPerValue(output)).order(ByteOrder.nativeOrder())

    init {
        val options = Interpreter.Options().setNumThreads(threads)
        delegate?.let { options.addDelegate(it) }
        val fd = context.assets.openFd("bundle/${artifact.path}")
        val model = FileInputStream(fd.fileDescriptor).channel.map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength)
        interpreter = Interpreter(model, options)
    }

    override fun run(batch: FloatArray): FloatArray {
        TensorIo.encode(batch, input, inBuf)
        outBuf.clear()
        interpreter.run(inBuf, outBuf)
        return TensorIo.decode(outBuf, output, count)
    }

    override fun close() {
        interpreter.close()
        (delegate as? Closeable)?.close()
    }
}
