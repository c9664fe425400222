package ygan.pipeline

/** Spec v1 steps 3 and 4 (DESIGN §4): where patches start on one axis, and how much each pixel of a patch weighs. */
object Grid {
    /** Starts k·S while the patch fits, then L − P if the edge was not reached. */
    fun positions(length: Int, patch: Int, stride: Int): IntArray {
        require(stride in 1..patch) { "stride $stride must be between 1 and the patch size $patch" }
        require(length >= patch) { "axis of length $length is shorter than the patch $patch: pad first" }
        val out = ArrayList<Int>()
        var p = 0
        while (p + patch <= length) {
            out.add(p)
            p += stride
        }
        if (out.last() + patch < length) out.add(length - patch)
        return out.toIntArray()
    }

    /** w(i) = min(1, (i + 0.5)/O, (P − i − 0.5)/O) with O = P − S, all ones when O = 0; computed in double, stored as float. */
    fun window(patch: Int, stride: Int): FloatArray {
        val overlap = patch - stride
        return FloatArray(patch) { i ->
            if (overlap == 0) 1f
            else minOf(1.0, (i + 0.5) / overlap, (patch - i - 0.5) / overlap).toFloat()
        }
    }
}
