package ygan.pipeline

import com.google.gson.JsonObject
import com.google.gson.JsonParser
import java.io.File
import java.security.MessageDigest

class ManifestException(message: String) : Exception(message)

data class TensorSpec(val name: String, val shape: List<Int>, val dtype: String, val scale: Float?, val zeroPoint: Int?,
                      val pixelBytes: Boolean = false) {
    val quant: Quant? get() = if (dtype == "float32") null else Quant.forDtype(dtype, scale!!, zeroPoint!!, pixelBytes)
}

data class Artifact(
    val id: String, val path: String, val format: String, val role: String, val theme: String?,
    val precision: String, val layout: Layout, val batch: Int, val input: TensorSpec, val output: TensorSpec,
    val sha256: String,
)

data class PipelineSettings(val patch: Int, val stride: Int, val blend: Blend, val batch: Int)

/**
 * A bundle read the way the phone must read it (docs/bundle.md): refused whole, naming the file,
 * unless the schema and version are known, every path stays inside the bundle and every listed
 * file has the manifest's sha256. The app never looks at a file the manifest does not vouch for.
 * A release app ships without the golden vectors (they are for tests): `requireGoldens = false`
 * lets listed golden files be absent, and still checks any that are present.
 */
class Bundle private constructor(val root: File, val json: JsonObject) {
    val themes: List<String> = json.getAsJsonArray("themes").map { it.asString }
    val pipeline: PipelineSettings = json.getAsJsonObject("pipeline").let {
        PipelineSettings(it["patch"].asInt, it["stride"].asInt, Blend.parse(it["blend"].asString), it["batch"].asInt)
    }
    val artifacts: List<Artifact> = json.getAsJsonArray("artifacts").map { artifact(it.asJsonObject) }

    fun golden(kind: String): JsonObject? =
        json.getAsJsonArray("golden").map { it.asJsonObject }.firstOrNull { it["kind"].asString == kind }

    fun file(entry: JsonObject): File = File(root, entry["path"].asString)

    /** The fused patch model a phone runs for a theme, e.g. ("flowers", "tflite", "int8-full"). */
    fun patchModel(theme: String, format: String, precision: String): Artifact =
        artifacts.firstOrNull { it.role == "patch_model" && it.theme == theme && it.format == format && it.precision == precision }
            ?: throw ManifestException("${File(root, "manifest.json")}: no $format $precision patch model for theme '$theme'")

    companion object {
        const val SCHEMA = "ygan-mobile/manifest"
        val VERSIONS = setOf(1)

        fun read(root: File, requireGoldens: Boolean = true): Bundle {
            val manifest = File(root, "manifest.json")
            if (!manifest.isFile) throw ManifestException("$manifest: not found: copy a bundle written by 'ygan build'")
            val json = try {
                JsonParser.parseString(manifest.readText()).asJsonObject
            } catch (e: Exception) {
                throw ManifestException("$manifest: not valid JSON (${e.message})")
            }
            val schema = json["schema"]?.takeIf { it.isJsonPrimitive }?.asString
            if (schema != SCHEMA) throw ManifestException("$manifest: schema '$schema' is not '$SCHEMA'")
            val version = json["version"]?.takeIf { it.isJsonPrimitive }?.asInt
            if (version !in VERSIONS) throw ManifestException("$manifest: version $version is not one this app knows ($VERSIONS)")
            for (entry in json.getAsJsonArray("artifacts")) check(root, entry.asJsonObject, manifest)
            for (entry in json.getAsJsonArray("golden")) {
                if (requireGoldens || File(root, entry.asJsonObject["path"].asString).exists()) check(root, entry.asJsonObject, manifest)
            }
            return Bundle(root, json)
        }

        private fun check(root: File, entry: JsonObject, manifest: File) {
            val rel = entry["path"].asString
            if (rel.startsWith("/") || rel.contains("\\") || rel.split("/").contains(".."))
                throw ManifestException("$manifest: path '$rel' leaves the bundle: paths must be relative and stay inside it")
            val file = File(root, rel)
            if (!file.canonicalFile.toPath().startsWith(root.canonicalFile.toPath()))
                throw ManifestException("$manifest: path '$rel' resolves outside the bundle (a symlink?)")
            if (!file.exists()) throw ManifestException("$rel: listed in ${manifest.name} but missing from the bundle")
            val actual = if (file.isDirectory) Hashing.tree(file) else Hashing.file(file)
            if (actual != entry["sha256"].asString)
                throw ManifestException("$rel: sha256 ${actual.take(12)}… does not match the manifest's: the file changed after conversion")
        }

        private fun tensor(o: JsonObject) = TensorSpec(
            o["name"].asString, o.getAsJsonArray("shape").map { it.asInt }, o["dtype"].asString,
            o["scale"]?.takeIf { !it.isJsonNull }?.asFloat, o["zero_point"]?.takeIf { !it.isJsonNull }?.asInt,
            o["pixel_bytes"]?.takeIf { !it.isJsonNull }?.asBoolean ?: false,
        )

        private fun artifact(o: JsonObject) = Artifact(
            o["id"].asString, o["path"].asString, o["format"].asString, o["role"].asString,
            o["theme"]?.takeIf { !it.isJsonNull }?.asString, o["precision"].asString,
            Layout.valueOf(o["layout"].asString), o["batch"].asInt,
            tensor(o.getAsJsonArray("inputs")[0].asJsonObject), tensor(o.getAsJsonArray("outputs")[0].asJsonObject),
            o["sha256"].asString,
        )
    }
}

/** sha256 as docs/bundle.md "Hashing" defines it, for files and for directory artifacts (.mlpackage). */
object Hashing {
    fun file(f: File): String = hex(MessageDigest.getInstance("SHA-256").also { d ->
        f.inputStream().use { s ->
            val buf = ByteArray(1 shl 20)
            while (true) {
                val n = s.read(buf)
                if (n < 0) break
                d.update(buf, 0, n)
            }
        }
    }.digest())

    /** sha256 of "<file sha256>  <posix path>\n" lines sorted bytewise by the path. */
    fun tree(dir: File): String {
        val base = dir.toPath()
        val lines = dir.walkTopDown().filter { it.isFile }
            .map { base.relativize(it.toPath()).joinToString("/") to it }
            .sortedWith { a, b -> compareBytes(a.first.toByteArray(), b.first.toByteArray()) }
            .joinToString("") { (rel, f) -> "${file(f)}  $rel\n" }
        return hex(MessageDigest.getInstance("SHA-256").digest(lines.toByteArray(Charsets.UTF_8)))
    }

    private fun compareBytes(a: ByteArray, b: ByteArray): Int {
        for (i in 0 until minOf(a.size, b.size)) {
            val d = (a[i].toInt() and 0xFF) - (b[i].toInt() and 0xFF)
            if (d != 0) return d
        }
        return a.size - b.size
    }

    fun hex(bytes: ByteArray): String = bytes.joinToString("") { "%02x".format(it) }
}
