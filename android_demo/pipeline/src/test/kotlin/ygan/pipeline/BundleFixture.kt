package ygan.pipeline

import java.io.File

/** The bundle under test: system property ygan.bundle (run_tests.sh passes it). */
object BundleFixture {
    val root: File by lazy {
        val path = System.getProperty("ygan.bundle") ?: error("set -Dygan.bundle=BUNDLE (android_demo/run_tests.sh BUNDLE does)")
        File(path)
    }
    val bundle: Bundle by lazy { Bundle.read(root) }
}
