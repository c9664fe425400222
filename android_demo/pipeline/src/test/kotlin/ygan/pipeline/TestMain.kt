package ygan.pipeline

import org.junit.runner.Description
import org.junit.runner.JUnitCore
import org.junit.runner.notification.Failure
import org.junit.runner.notification.RunListener
import kotlin.system.exitProcess

/** Runs every test class (RealModelTest only with -Dygan.python) and ends with one line "N passed, M failed". */
fun main() {
    val core = JUnitCore()
    var failed = 0
    var started = 0
    core.addListener(object : RunListener() {
        override fun testStarted(description: Description) { started++ }
        override fun testFailure(failure: Failure) {
            failed++
            println("FAIL ${failure.description.displayName}: ${failure.message?.lineSequence()?.firstOrNull()}")
        }
    })
    val classes = mutableListOf(GridTest::class.java, TensorIoTest::class.java, ManifestTest::class.java,
        GoldenPipelineTest::class.java, AppModelTest::class.java,
        MultiscaleTest::class.java, MultiscaleGoldenTest::class.java)
    if (System.getProperty("ygan.python") != null) classes += RealModelTest::class.java  // needs LiteRT through Python
    core.run(*classes.toTypedArray())
    println("${started - failed} passed, $failed failed")
    exitProcess(if (failed == 0 && started > 0) 0 else 1)
}
