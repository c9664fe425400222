package ygan.pipeline

import com.google.gson.JsonObject

/** docs/bundle.md's stand-in models, shared by the v1 and v2 golden tests: identity; affine y = a·x + b per channel; ramp = affine + k·(i − j)/P in the patch. */
object StandIns {
    fun model(name: String, case: JsonObject, layout: Layout, p: Int): PatchModel {
        if (name == "identity") return PatchModel { it.copyOf() }
        val a = case.getAsJsonArray("a").map { it.asFloat }
        val b = case.getAsJsonArray("b").map { it.asFloat }
        val k = if (name == "ramp") case["k"].asFloat else 0f
        return PatchModel { x ->
            FloatArray(x.size) { idx ->
                val c: Int
                val i: Int
                val j: Int
                if (layout == Layout.NHWC) {
                    c = idx % 3; j = (idx / 3) % p; i = (idx / (3 * p)) % p
                } else {
                    j = idx % p; i = (idx / p) % p; c = (idx / (p * p)) % 3
                }
                val affine = a[c] * x[idx] + b[c]
                if (k == 0f) affine else affine + k * (i - j).toFloat() / p.toFloat()
            }
        }
    }
}
