package ygan.demo

import android.Manifest
import android.content.pm.PackageManager
import android.graphics.Bitmap
import android.os.Bundle as AndroidBundle
import android.os.SystemClock
import android.view.View
import android.widget.AdapterView
import android.widget.ArrayAdapter
import android.widget.ImageView
import android.widget.Spinner
import android.widget.TextView
import androidx.appcompat.app.AppCompatActivity
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.core.content.ContextCompat
import ygan.pipeline.Argb
import ygan.pipeline.Bundle
import ygan.pipeline.Layout
import ygan.pipeline.Render
import ygan.pipeline.Settings
import java.util.concurrent.Executors

/**
 * Camera → pipeline → LiteRT → screen. Everything numeric is in the `pipeline` module; this class
 * only wires the camera, the pickers and the views.
 */
class MainActivity : AppCompatActivity() {
    private lateinit var bundle: Bundle
    private val worker = Executors.newSingleThreadExecutor()
    @Volatile private var model: LiteRtPatchModel? = null
    @Volatile private var settings: Settings? = null
    private var lastFrame = 0L

    override fun onCreate(state: AndroidBundle?) {
        super.onCreate(state)
        setContentView(R.layout.activity_main)
        bundle = BundleAssets.open(this)
        val themes = findViewById<Spinner>(R.id.theme)
        val precisions = findViewById<Spinner>(R.id.precision)
        val delegates = findViewById<Spinner>(R.id.delegate)
        themes.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_item, bundle.themes)
        precisions.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_item, listOf("int8-full", "fp16"))
        delegates.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_item, Accelerator.values().map { it.name })
        val reload = object : AdapterView.OnItemSelectedListener {
            override fun onItemSelected(parent: AdapterView<*>?, view: View?, position: Int, id: Long) =
                load(themes.selectedItem as String, precisions.selectedItem as String, Accelerator.valueOf(delegates.selectedItem as String))
            override fun onNothingSelected(parent: AdapterView<*>?) = Unit
        }
        listOf(themes, precisions, delegates).forEach { it.onItemSelectedListener = reload }
        if (ContextCompat.checkSelfPermission(this, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED) startCamera()
        else requestPermissions(arrayOf(Manifest.permission.CAMERA), 1)
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, results: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, results)
        if (results.firstOrNull() == PackageManager.PERMISSION_GRANTED) startCamera()
    }

    private fun load(theme: String, precision: String, accelerator: Accelerator) = worker.execute {
        val artifact = bundle.patchModel(theme, "tflite", precision)
        model?.close()
        model = LiteRtPatchModel(this, artifact, accelerator)
        // stride = patch: no overlap, the real-time setting; the blend is the bundle's
        settings = Settings(bundle.pipeline.patch, bundle.pipeline.patch, bundle.pipeline.blend, artifact.batch, Layout.NHWC)
    }

    private fun startCamera() {
        val future = ProcessCameraProvider.getInstance(this)
        future.addListener({
            val analysis = ImageAnalysis.Builder()
                .setOutputImageFormat(ImageAnalysis.OUTPUT_IMAGE_FORMAT_RGBA_8888)
                .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST).build()
            analysis.setAnalyzer(worker) { image ->
                val bitmap = image.toBitmap()
                image.close()
                render(bitmap)
            }
            val provider = future.get()
            provider.unbindAll()
            provider.bindToLifecycle(this, CameraSelector.DEFAULT_BACK_CAMERA, analysis)
        }, ContextCompat.getMainExecutor(this))
    }

    private fun render(bitmap: Bitmap) {
        val m = model ?: return
        val s = settings ?: return
        val w = bitmap.width
        val h = bitmap.height
        val argb = IntArray(w * h).also { bitmap.getPixels(it, 0, w, 0, 0, w, h) }
        val out = Render.renderU8(Argb.toFrame(argb, w, h), listOf(m), s)
        val shown = Bitmap.createBitmap(Argb.fromRgb(out, w, h), w, h, Bitmap.Config.ARGB_8888)
        val now = SystemClock.elapsedRealtime()
        val fps = if (lastFrame == 0L) 0.0 else 1000.0 / (now - lastFrame)
        lastFrame = now
        runOnUiThread {
            findViewById<ImageView>(R.id.output).setImageBitmap(shown)
            findViewById<TextView>(R.id.fps).text = "%.1f fps".format(fps)
        }
    }
}
