package ygan.demo

import org.tensorflow.lite.Delegate
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.gpu.CompatibilityList
import org.tensorflow.lite.gpu.GpuDelegate
import org.tensorflow.lite.nnapi.NnApiDelegate
import ygan.pipeline.Artifact
import ygan.pipeline.BufferedPatchModel
import ygan.pipeline.Bundle
import ygan.pipeline.ModelFile
import ygan.pipeline.PatchModel
import java.io.Closeable
import java.nio.ByteBuffer

enum class Accelerator { CPU, GPU, NNAPI }

/**
 * One TFLite patch-model artifact behind the pipeline's PatchModel. The interpreter maps the file
 * whose mapping ModelFile has just hashed; the buffers and the numbers are BufferedPatchModel's.
 * An accelerator this device cannot use falls back to the CPU, and `note` says why.
 */
class LiteRtPatchModel private constructor(
    private val interpreter: Interpreter,
    private val delegate: Delegate?,
    artifact: Artifact,
    val accelerator: Accelerator,
    val note: String?,
) : PatchModel, Closeable {
    private val buffers = BufferedPatchModel(artifact) { input, output -> interpreter.run(input, output) }

    override fun run(batch: FloatArray): FloatArray = buffers.run(batch)

    override fun close() {
        interpreter.close()
        (delegate as? Closeable)?.close()
    }

    companion object {
        fun open(bundle: Bundle, artifact: Artifact, wanted: Accelerator, threads: Int = 2): LiteRtPatchModel {
            val model = ModelFile.map(bundle, artifact)
            if (wanted == Accelerator.CPU) return cpu(model, artifact, null, threads)
            val delegate = try {
                when (wanted) {
                    Accelerator.GPU -> {
                        val list = CompatibilityList()
                        try {
                            if (!list.isDelegateSupportedOnThisDevice)
                                return cpu(model, artifact, "GPU delegate not supported on this device: running on the CPU", threads)
                            GpuDelegate(list.bestOptionsForThisDevice)
                        } finally {
                            list.close()
                        }
                    }
                    else -> NnApiDelegate()
                }
            } catch (e: Exception) {  // a delegate library the device cannot load
                return cpu(model, artifact, "$wanted delegate unavailable (${e.message}): running on the CPU", threads)
            }
            return try {
                LiteRtPatchModel(Interpreter(model, Interpreter.Options().setNumThreads(threads).addDelegate(delegate)),
                    delegate, artifact, wanted, null)
            } catch (e: Exception) {  // the delegate refused this model's ops
                (delegate as? Closeable)?.close()
                cpu(model, artifact, "$wanted delegate cannot run ${artifact.id} (${e.message}): running on the CPU", threads)
            }
        }

        private fun cpu(model: ByteBuffer, artifact: Artifact, note: String?, threads: Int) =
            LiteRtPatchModel(Interpreter(model, Interpreter.Options().setNumThreads(threads)), null, artifact, Accelerator.CPU, note)
    }
}
