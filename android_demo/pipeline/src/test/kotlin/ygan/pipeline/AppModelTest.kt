package ygan.pipeline

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.io.File
import java.nio.ByteBuffer
import java.nio.file.Files

/** What the app does around the interpreter: map and check the model, its buffers, upright frames, no goldens. */
class AppModelTest {
    private val int8 get() = BundleFixture.bundle.artifacts.first { it.format == "tflite" && it.role == "patch_model" && it.precision == "int8-full" }

    private fun copy(): File = Files.createTempDirectory("bundle").toFile().also { BundleFixture.root.copyRecursively(it, overwrite = true) }

    @Test fun theMappedModelIsTheFileTheManifestVouchesFor() {
        val mapped = ModelFile.map(BundleFixture.bundle, int8)
        val bytes = ByteArray(mapped.remaining()).also { mapped.duplicate().get(it) }
        assertArrayEquals(File(BundleFixture.root, int8.path).readBytes(), bytes)
    }

    @Test fun aModelChangedAfterReadingIsRefusedWhenMapped() {
        val root = copy()
        try {
            val bundle = Bundle.read(root)
            val file = File(root, int8.path)
            val bytes = file.readBytes()
            bytes[bytes.size / 2] = (bytes[bytes.size / 2].toInt() xor 1).toByte()
            file.writeBytes(bytes)
            ModelFile.map(bundle, int8)
            fail("the changed model was mapped")
        } catch (e: ManifestException) {
            assertTrue(e.message!!, e.message!!.contains(int8.path) && e.message!!.contains("mapped file"))
        } finally {
            root.deleteRecursively()
        }
    }

    @Test fun theModelClassFillsAndReadsTheArtifactsBuffers() {
        val a = int8
        val n = a.input.shape.fold(1) { x, y -> x * y }
        var seen = 0
        val copyBytes = BufferedPatchModel(a) { input, output ->
            seen = input.remaining()
            output.put(input.duplicate())
        }
        val batch = FloatArray(n) { (it % 201) / 100f - 1f }
        val got = copyBytes.run(batch)
        assertEquals(n, seen)  // one byte per int8 value, the whole fixed batch
        val qIn = a.input.quant!!
        val qOut = a.output.quant!!
        for (i in 0 until n) assertEquals(qOut.dequantise(qIn.quantise(batch[i])), got[i], 0f)
    }

    @Test fun aBatchOfTheWrongSizeIsRefused() {
        try {
            BufferedPatchModel(int8) { _, _ -> }.run(FloatArray(3))
            fail("a 3-value batch was accepted")
        } catch (e: IllegalArgumentException) {
            assertTrue(e.message!!, e.message!!.contains("the model takes"))
        }
    }

    @Test fun framesAreTurnedUprightByTheCamerasRotation() {
        // 3 wide, 2 high:  a b c / d e f
        val img = ArgbImage(3, 2, intArrayOf(1, 2, 3, 4, 5, 6))
        val r90 = Rotation.upright(img, 90)
        assertEquals(2, r90.width)
        assertEquals(3, r90.height)
        assertArrayEquals(intArrayOf(4, 1, 5, 2, 6, 3), r90.argb)  // d a / e b / f c
        assertArrayEquals(intArrayOf(6, 5, 4, 3, 2, 1), Rotation.upright(img, 180).argb)
        assertArrayEquals(intArrayOf(3, 6, 2, 5, 1, 4), Rotation.upright(img, 270).argb)  // c f / b e / a d
        var turned = img
        repeat(4) { turned = Rotation.upright(turned, 90) }
        assertArrayEquals(img.argb, turned.argb)
        try {
            Rotation.upright(img, 45)
            fail("45 degrees was accepted")
        } catch (e: IllegalArgumentException) {
            assertTrue(e.message!!.contains("0, 90, 180 or 270"))
        }
    }

    @Test fun aReleaseBundleWithoutGoldensIsReadOnlyWhenAsked() {
        val root = copy()
        try {
            File(root, "golden").deleteRecursively()
            assertEquals(BundleFixture.bundle.artifacts.size, Bundle.read(root, requireGoldens = false).artifacts.size)
            try {
                Bundle.read(root)
                fail("a bundle without its goldens was accepted where they are required")
            } catch (e: ManifestException) {
                assertTrue(e.message!!, e.message!!.contains("golden/") && e.message!!.contains("missing"))
            }
        } finally {
            root.deleteRecursively()
        }
    }
}
