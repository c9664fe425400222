package ygan.pipeline

/** ARGB pixels of a width × height image. */
class ArgbImage(val width: Int, val height: Int, val argb: IntArray) {
    init {
        require(argb.size == width * height) { "image of ${width}x$height needs ${width * height} pixels, got ${argb.size}" }
    }
}

/**
 * Turning a camera frame upright. CameraX reports `ImageInfo.rotationDegrees`: how far the buffer
 * must be turned clockwise to appear upright on the display; AVFoundation's equivalent is the
 * connection's rotation angle. The pipeline then sees what the user sees, so patches are not drawn
 * on their side.
 */
object Rotation {
    fun upright(image: ArgbImage, rotationDegrees: Int): ArgbImage {
        val w = image.width
        val h = image.height
        val src = image.argb
        return when (((rotationDegrees % 360) + 360) % 360) {
            0 -> image
            90 -> ArgbImage(h, w, IntArray(w * h) { i -> val y = i / h; val x = i % h; src[(h - 1 - x) * w + y] })
            180 -> ArgbImage(w, h, IntArray(w * h) { i -> src[w * h - 1 - i] })
            270 -> ArgbImage(h, w, IntArray(w * h) { i -> val y = i / h; val x = i % h; src[x * w + (w - 1 - y)] })
            else -> throw IllegalArgumentException("rotation of $rotationDegrees degrees: cameras report 0, 90, 180 or 270")
        }
    }
}
