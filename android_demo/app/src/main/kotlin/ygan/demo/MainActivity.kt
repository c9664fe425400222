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
import android.widget.Toast
import androidx.appcompat.app.AppCompatActivity
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.core.content.ContextCompat
import ygan.pipeline.Argb
import ygan.pipeline.ArgbImage
import ygan.pipeline.Bundle
import ygan.pipeline.Layout
import ygan.pipeline.ManifestException
import ygan.pipeline.Multiscale
import ygan.pipeline.MultiscaleSettings
import ygan.pipeline.MultiscaleState
import ygan.pipeline.Render
import ygan.pipeline.Rotation
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
    private lateinit var multiscale: MultiscaleSettings  // spec v2 at the settings the bundle's manifest records
    @Volatile private var sampling = Sampling.GRID
    private var stream = MultiscaleState()  // the camera's v2 layout from frame to frame (hysteresis); worker thread only
    private var lastFrame = 0L

    /** Grid: spec v1, every element at P. Multiscale: spec v2, small cells where the scene has detail, large ones where it is flat. */
    enum class Sampling(val label: String) { GRID("grid (v1)"), MULTISCALE("multiscale (v2)") }

    override fun onCreate(state: AndroidBundle?) {
        super.onCreate(state)
        setContentView(R.layout.activity_main)
        bundle = try {
            BundleAssets.open(this)
        } catch (e: ManifestException) {  // a bundle the app must not run: say which file and why, run nothing
            findViewById<TextView>(R.id.fps).text = e.message
            return
        }
        val themes = findViewById<Spinner>(R.id.theme)
        val precisions = findViewById<Spinner>(R.id.precision)
        val delegates = findViewById<Spinner>(R.id.delegate)
        val samplings = findViewById<Spinner>(R.id.sampling)
        multiscale = try {
            MultiscaleSettings.from(bundle.pipeline.patch, bundle.golden("multiscale"))
        } catch (e: IllegalArgumentException) {  // v2 settings spec v2 cannot run: say so, run nothing
            findViewById<TextView>(R.id.fps).text = "manifest.json, multiscale: ${e.message}"
            return
        }
        themes.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_item, bundle.themes)
        precisions.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_item, listOf("int8-full", "fp16"))
        delegates.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_item, Accelerator.values().map { it.name })
        val reload = object : AdapterView.OnItemSelectedListener {
            override fun onItemSelected(parent: AdapterView<*>?, view: View?, position: Int, id: Long) =
                load(themes.selectedItem as String, precisions.selectedItem as String, Accelerator.valueOf(delegates.selectedItem as String))
            override fun onNothingSelected(parent: AdapterView<*>?) = Unit
        }
        listOf(themes, precisions, delegates).forEach { it.onItemSelectedListener = reload }
        samplings.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_item, Sampling.values().map { it.label })
        samplings.onItemSelectedListener = object : AdapterView.OnItemSelectedListener {
            override fun onItemSelected(parent: AdapterView<*>?, view: View?, position: Int, id: Long) {
                sampling = Sampling.values()[position]
                worker.execute { stream = MultiscaleState() }
            }
            override fun onNothingSelected(parent: AdapterView<*>?) = Unit
        }
        if (ContextCompat.checkSelfPermission(this, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED) startCamera()
        else requestPermissions(arrayOf(Manifest.permission.CAMERA), 1)
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, results: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, results)
        if (results.firstOrNull() == PackageManager.PERMISSION_GRANTED) startCamera()
    }

    private fun load(theme: String, precision: String, accelerator: Accelerator) = worker.execute {
        model?.close()
        model = null
        val artifact = try {
            bundle.patchModel(theme, "tflite", precision).also { model = LiteRtPatchModel.open(bundle, it, accelerator) }
        } catch (e: ManifestException) {  // no such artifact, or its mapped bytes are not the manifest's
            runOnUiThread { findViewById<TextView>(R.id.fps).text = e.message }
            return@execute
        }
        model?.note?.let { note -> runOnUiThread { Toast.makeText(this, note, Toast.LENGTH_LONG).show() } }
        stream = MultiscaleState()
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
                val rotation = image.imageInfo.rotationDegrees  // clockwise turn that makes the buffer upright
                image.close()
                render(bitmap, rotation)
            }
            val provider = future.get()
            provider.unbindAll()
            provider.bindToLifecycle(this, CameraSelector.DEFAULT_BACK_CAMERA, analysis)
        }, ContextCompat.getMainExecutor(this))
    }

    private fun render(bitmap: Bitmap, rotationDegrees: Int) {
        val m = model ?: return
        val s = settings ?: return
        val argb = IntArray(bitmap.width * bitmap.height).also { bitmap.getPixels(it, 0, bitmap.width, 0, 0, bitmap.width, bitmap.height) }
        val upright = Rotation.upright(ArgbImage(bitmap.width, bitmap.height, argb), rotationDegrees)
        val w = upright.width
        val h = upright.height
        val frame = Argb.toFrame(upright.argb, w, h)
        val v2 = if (sampling == Sampling.MULTISCALE) Multiscale.render(frame, listOf(m), multiscale, s.batch, Layout.NHWC, stream) else null
        val out = v2?.rgb ?: Render.renderU8(frame, listOf(m), s)
        val cells = (v2?.cells?.size ?: 0) / 4
        val shown = Bitmap.createBitmap(Argb.fromRgb(out, w, h), w, h, Bitmap.Config.ARGB_8888)
        val now = SystemClock.elapsedRealtime()
        val fps = if (lastFrame == 0L) 0.0 else 1000.0 / (now - lastFrame)
        lastFrame = now
        runOnUiThread {
            findViewById<ImageView>(R.id.output).setImageBitmap(shown)
            findViewById<TextView>(R.id.fps).text = if (cells > 0) "%.1f fps · %d cells".format(fps, cells) else "%.1f fps".format(fps)
        }
    }
}
