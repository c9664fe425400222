import Foundation

/// Spec v1 steps 3 and 4 (DESIGN §4): patch starts on one axis and the blend window.
public enum Grid {
    /// Starts k·S while the patch fits, then L − P if the edge was not reached.
    public static func positions(length: Int, patch: Int, stride: Int) -> [Int] {
        precondition(stride >= 1 && stride <= patch, "stride \(stride) must be between 1 and the patch size \(patch)")
        precondition(length >= patch, "axis of length \(length) is shorter than the patch \(patch): pad first")
        var out: [Int] = []
        var p = 0
        while p + patch <= length { out.append(p); p += stride }
        if out.last! + patch < length { out.append(length - patch) }
        return out
    }

    /// w(i) = min(1, (i + 0.5)/O, (P − i − 0.5)/O), O = P − S; ones when O = 0. Computed in Double, stored as Float.
    public static func window(patch: Int, stride: Int) -> [Float] {
        let overlap = Double(patch - stride)
        return (0..<patch).map { i in
            overlap == 0 ? 1 : Float(min(1.0, (Double(i) + 0.5) / overlap, (Double(patch - i) - 0.5) / overlap))
        }
    }
}

/// An RGB frame, row-major H×W×3 bytes.
public struct Frame {
    public let height: Int
    public let width: Int
    public let rgb: [UInt8]

    public init(height: Int, width: Int, rgb: [UInt8]) {
        precondition(rgb.count == height * width * 3, "frame of \(height)x\(width) needs \(height * width * 3) bytes")
        self.height = height; self.width = width; self.rgb = rgb
    }

    public func at(_ y: Int, _ x: Int, _ c: Int) -> UInt8 { rgb[(y * width + x) * 3 + c] }
}

public enum Pixels {
    public static func normalise(_ u8: UInt8) -> Float { Float(u8) / 127.5 - 1 }

    /// u8 = floor(clip((y + 1)·127.5, 0, 255) + 0.5)
    public static func toU8(_ y: Float) -> UInt8 {
        let scaled = min(max((y + 1) * 127.5, 0), 255)
        return UInt8((scaled + 0.5).rounded(.down))
    }

    public static func toU8(_ y: [Float]) -> [UInt8] { y.map(toU8) }
}

/// Integer I/O: real = (q − zeroPoint)·scale; quantising rounds half to even and clips.
/// A pixel-bytes tensor (`"pixel_bytes": true`, scale 2/255, zero point 0: docs/pipeline.md, "Integer
/// artifacts") reads the byte as signed both ways: quantising rounds down, so a pixel value
/// u8/127.5 − 1 (half-way between two codes) becomes u8 − 128, and a code is read at the centre of its
/// level, (q + ½)·scale, which Pixels.toU8 rounds to q + 128.
public struct Quant {
    public let scale: Float
    public let zeroPoint: Int
    public let lo: Int
    public let hi: Int
    public let pixelBytes: Bool

    public init(scale: Float, zeroPoint: Int, lo: Int = -128, hi: Int = 127, pixelBytes: Bool = false) {
        self.scale = scale; self.zeroPoint = zeroPoint; self.lo = lo; self.hi = hi; self.pixelBytes = pixelBytes
    }

    public func quantise(_ x: Float) -> Int {
        let v = Double(x / scale + Float(zeroPoint))
        return min(max(Int(pixelBytes ? v.rounded(.down) : v.rounded(.toNearestOrEven)), lo), hi)
    }

    public func dequantise(_ q: Int) -> Float { (Float(q - zeroPoint) + (pixelBytes ? 0.5 : 0)) * scale }
}
