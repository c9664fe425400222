package ygan.pipeline

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.io.File
import java.nio.file.Files

class ManifestTest {
    private fun copy(): File {
        val dst = Files.createTempDirectory("bundle").toFile()
        BundleFixture.root.copyRecursively(dst, overwrite = true)
        return dst
    }

    private fun refused(root: File, mentions: String) {
        try {
            Bundle.read(root)
            fail("the bundle was accepted")
        } catch (e: ManifestException) {
            assertTrue("message '${e.message}' does not mention $mentions", e.message!!.contains(mentions))
        } finally {
            root.deleteRecursively()
        }
    }

    @Test fun readsTheBundleAndItsPipelineSettings() {
        val b = BundleFixture.bundle
        assertTrue(b.artifacts.isNotEmpty())
        assertTrue(b.pipeline.stride in 1..b.pipeline.patch)
        val int8 = b.artifacts.filter { it.precision == "int8-full" }
        for (a in int8) assertTrue("${a.id}: int8 input without quantisation", a.input.quant != null)
        for (a in int8.filter { it.role == "patch_model" }) assertTrue("${a.id}: image input not read as pixel bytes", a.input.quant!!.pixelBytes)
    }

    @Test fun oneChangedByteIsRefusedNamingTheFile() {
        val root = copy()
        val target = Bundle.read(root).artifacts.first { !File(root, it.path).isDirectory }
        val file = File(root, target.path)
        val bytes = file.readBytes()
        bytes[bytes.size / 2] = (bytes[bytes.size / 2].toInt() xor 1).toByte()
        file.writeBytes(bytes)
        refused(root, target.path)
    }

    @Test fun aPathLeavingTheBundleIsRefused() {
        val root = copy()
        val manifest = File(root, "manifest.json")
        val first = Bundle.read(root).artifacts.first().path
        manifest.writeText(manifest.readText().replace("\"$first\"", "\"../$first\""))
        refused(root, "leaves the bundle")
    }

    @Test fun anUnknownVersionIsRefused() {
        val root = copy()
        val manifest = File(root, "manifest.json")
        manifest.writeText(manifest.readText().replaceFirst(Regex("\"version\":\\s*1"), "\"version\": 99"))
        refused(root, "version 99")
    }

    @Test fun directoryHashFollowsTheSpec() {
        val dir = Files.createTempDirectory("pkg").toFile()
        File(dir, "b").mkdirs()
        File(dir, "b/x.bin").writeText("x")
        File(dir, "a.json").writeText("{}")
        // sha256 of "<sha256('{}')>  a.json\n<sha256('x')>  b/x.bin\n", worked out with Python's hashlib
        assertEquals("ec49d5fa48f4dc2a533ca8193a959c479c22581e49184b2255aa839089e32e8d", Hashing.tree(dir))
        dir.deleteRecursively()
    }
}
