package ygan.pipeline

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import java.io.DataInputStream
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import kotlin.math.log10

/**
 * The real int8-full .tflite through the app's model class (BufferedPatchModel, as LiteRtPatchModel
 * wraps it) and the core's pipeline, on the bundle's golden frames, against the PyTorch frames: the
 * PSNR must clear the artifact's threshold, as `verify` requires of the reference runtime. The model
 * runs in LiteRT through litert_bridge.py (the Android AAR cannot load on a JVM), fed the bytes
 * ModelFile mapped and hashed. The same for spec v2 (multi-scale cells): the cells exactly, each cell's
 * output above the threshold. Runs when run_tests.sh is given YGAN_PYTHON (make test does).
 */
class RealModelTest {
    private val bundle = BundleFixture.bundle

    private fun bridged(artifact: Artifact): Pair<PatchModel, Process> {
        val python = System.getProperty("ygan.python") ?: error("set -Dygan.python (run_tests.sh does with YGAN_PYTHON)")
        val bridge = System.getProperty("ygan.bridge") ?: error("set -Dygan.bridge")
        val process = ProcessBuilder(python, bridge).redirectError(ProcessBuilder.Redirect.INHERIT).start()
        val mapped = ModelFile.map(bundle, artifact)
        val header = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(mapped.remaining().toLong()).array()
        val toBridge = process.outputStream
        val fromBridge = DataInputStream(process.inputStream)
        toBridge.write(header)
        toBridge.write(ByteArray(mapped.remaining()).also { mapped.duplicate().get(it) })
        val model = BufferedPatchModel(artifact) { input, output ->
            toBridge.write(ByteArray(input.remaining()).also { input.duplicate().get(it) })
            toBridge.flush()
            output.put(ByteArray(output.remaining()).also { fromBridge.readFully(it) })
        }
        return model to process
    }

    /** Each int8-full .tflite patch model of the bundle in LiteRT, the bridge stopped afterwards. */
    private fun eachInt8Model(body: (Artifact, PatchModel) -> Unit) {
        val artifacts = bundle.artifacts.filter { it.format == "tflite" && it.role == "patch_model" && it.precision == "int8-full" }
        assertTrue("no tflite int8-full patch model in the bundle", artifacts.isNotEmpty())
        for (artifact in artifacts) {
            val (model, process) = bridged(artifact)
            try {
                body(artifact, model)
            } finally {
                process.outputStream.close()
                process.waitFor()
            }
        }
    }

    private val limit get() = bundle.json.getAsJsonObject("thresholds_db")["int8-full"].asDouble

    private fun indices(arrays: Map<String, NdArray>): List<Int> =
        arrays.keys.filter { it.startsWith("frame.") }.map { it.removePrefix("frame.").toInt() }.sorted().also { assertTrue("no golden frames", it.isNotEmpty()) }

    /** PSNR of float outputs in [-1, 1] (data range 2). */
    private fun psnr(got: FloatArray, want: FloatArray): Double {
        assertEquals(want.size, got.size)
        var sq = 0.0
        for (k in want.indices) sq += (got[k] - want[k]).toDouble().let { it * it }
        return 10 * log10(4.0 / (sq / want.size))
    }

    @Test fun theRealInt8ModelRendersTheGoldenFramesAsPyTorchDoes() {
        val entry = bundle.golden("frames") ?: error("the bundle has no frames golden file")
        val frames = Npy.readNpz(bundle.file(entry))
        eachInt8Model { artifact, model ->
            val s = Settings(bundle.pipeline.patch, entry["stride"].asInt, Blend.parse(entry["blend"].asString), artifact.batch, Layout.NHWC)
            for (i in indices(frames)) {
                val arr = frames.getValue("frame.$i")
                val got = Render.renderFloat(Frame(arr.shape[0], arr.shape[1], arr.bytes!!), listOf(model), s)
                val psnr = psnr(got, frames.getValue("torch_float.${artifact.theme}.$i").floats!!)
                assertTrue("${artifact.id} frame $i: PSNR %.2f dB < %.1f dB".format(psnr, limit), psnr >= limit)
            }
        }
    }

    /** Spec v2 at the manifest's settings: the PyTorch pipeline's cells exactly, and each cell's model output above the threshold. */
    @Test fun theRealInt8ModelRendersTheV2GoldenFramesAsPyTorchDoes() {
        val entry = bundle.golden("multiscale") ?: error("the bundle has no multiscale golden file")
        val arrays = Npy.readNpz(bundle.file(entry))
        val s = MultiscaleSettings.from(bundle.pipeline.patch, entry)
        eachInt8Model { artifact, model ->
            for (i in indices(arrays)) {
                val arr = arrays.getValue("frame.$i")
                val got = Multiscale.render(Frame(arr.shape[0], arr.shape[1], arr.bytes!!), listOf(model), s, artifact.batch, Layout.NHWC,
                    keepFloat = true)
                assertArrayEquals("${artifact.id} v2 frame $i: cells", arrays.getValue("layout.$i").ints!!, got.cells)
                val psnr = psnr(got.floats!!, arrays.getValue("torch_float.${artifact.theme}.$i").floats!!)
                assertTrue("${artifact.id} v2 frame $i: PSNR %.2f dB < %.1f dB".format(psnr, limit), psnr >= limit)
            }
        }
    }
}
