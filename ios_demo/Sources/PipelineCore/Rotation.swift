/// Turning a camera frame upright. AVFoundation delivers the sensor's buffer, and the rotation
/// coordinator (iOS 17) says how many degrees clockwise it must turn to be level; CameraX calls the
/// same number `rotationDegrees`. The pipeline then sees what the user sees, so patches are not
/// drawn on their side. The Kotlin core's Rotation does the same, tested with the same examples.
public struct RotationError: Error, CustomStringConvertible {
    public let description: String
}

public enum Rotation {
    public static func upright(_ frame: Frame, degrees: Int) throws -> Frame {
        let w = frame.width, h = frame.height, src = frame.rgb
        func turned(_ width: Int, _ height: Int, _ source: (Int, Int) -> Int) -> Frame {
            var rgb = [UInt8](repeating: 0, count: src.count)
            for y in 0..<height {
                for x in 0..<width {
                    let from = source(y, x) * 3, to = (y * width + x) * 3
                    rgb[to] = src[from]; rgb[to + 1] = src[from + 1]; rgb[to + 2] = src[from + 2]
                }
            }
            return Frame(height: height, width: width, rgb: rgb)
        }
        switch ((degrees % 360) + 360) % 360 {
        case 0: return frame
        case 90: return turned(h, w) { y, x in (h - 1 - x) * w + y }
        case 180: return turned(w, h) { y, x in (h - 1 - y) * w + (w - 1 - x) }
        case 270: return turned(h, w) { y, x in x * w + (w - 1 - y) }
        default: throw RotationError(description: "rotation of \(degrees) degrees: cameras report 0, 90, 180 or 270")
        }
    }
}
