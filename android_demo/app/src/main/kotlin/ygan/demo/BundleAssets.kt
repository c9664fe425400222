package ygan.demo

import android.content.Context
import ygan.pipeline.Bundle
import java.io.File

/**
 * The pipeline's Bundle reader works on files, so the bundle in assets/ is copied once to the app's
 * files directory (re-copied when the APK changes); the reader then checks every sha256 as usual, and
 * the interpreter maps these copies (LiteRtPatchModel), never the assets. A release APK carries no
 * golden vectors (app/build.gradle.kts), so they are not required here.
 */
object BundleAssets {
    fun open(context: Context): Bundle {
        val stamp = context.packageManager.getPackageInfo(context.packageName, 0).lastUpdateTime.toString()
        val dir = File(context.filesDir, "bundle")
        val marker = File(dir, ".copied")
        if (!marker.isFile || marker.readText() != stamp) {
            dir.deleteRecursively()
            copy(context, "bundle", dir)
            marker.writeText(stamp)
        }
        return Bundle.read(dir, requireGoldens = false)
    }

    private fun copy(context: Context, asset: String, dst: File) {
        val children = context.assets.list(asset).orEmpty()
        if (children.isEmpty()) {
            dst.parentFile?.mkdirs()
            context.assets.open(asset).use { input -> dst.outputStream().use { input.copyTo(it) } }
        } else {
            children.forEach { copy(context, "$asset/$it", File(dst, it)) }
        }
    }
}
