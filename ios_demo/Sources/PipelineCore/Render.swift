import Foundation

public enum Layout: String { case NCHW, NHWC }
public enum Blend: String { case feather, paste }

/// A patch model with a fixed batch: batch·P·P·3 floats in [-1, 1] in and out, in its own layout.
public protocol PatchModel {
    func run(_ batch: [Float]) throws -> [Float]
}

public struct Settings {
    public let patch: Int, stride: Int, blend: Blend, batch: Int, layout: Layout
    public init(patch: Int, stride: Int, blend: Blend, batch: Int, layout: Layout) {
        self.patch = patch; self.stride = stride; self.blend = blend; self.batch = batch; self.layout = layout
    }
}

/// Spec v1 end to end; the app calls `renderU8` per camera frame with Core ML wrapped as a PatchModel.
public enum Render {
    public static func renderFloat(_ frame: Frame, models: [PatchModel], settings s: Settings, themes: [Int]? = nil) throws -> [Float] {
        let p = s.patch, ph = max(frame.height, p), pw = max(frame.width, p)
        var x = [Float](repeating: 0, count: ph * pw * 3)
        for y in 0..<ph { for xx in 0..<pw { for c in 0..<3 {
            x[(y * pw + xx) * 3 + c] = Pixels.normalise(frame.at(min(y, frame.height - 1), min(xx, frame.width - 1), c))
        } } }
        let rows = Grid.positions(length: ph, patch: p, stride: s.stride)
        let cols = Grid.positions(length: pw, patch: p, stride: s.stride)
        let count = rows.count * cols.count
        let themeOf = themes ?? [Int](repeating: 0, count: count)
        precondition(themeOf.count == count, "theme map does not match the \(rows.count)x\(cols.count) grid")
        var outputs = [[Float]](repeating: [], count: count)
        for t in Set(themeOf).sorted() {
            let members = (0..<count).filter { themeOf[$0] == t }
            let crops = members.map { k in crop(x, pw: pw, r: rows[k / cols.count], c: cols[k % cols.count], p: p) }
            for (i, y) in try runBatched(models[t], crops, s).enumerated() { outputs[members[i]] = y }
        }
        let out = blend(outputs, rows: rows, cols: cols, ph: ph, pw: pw, s)
        if ph == frame.height && pw == frame.width { return out }
        var res = [Float](repeating: 0, count: frame.height * frame.width * 3)
        for y in 0..<frame.height { for i in 0..<(frame.width * 3) { res[y * frame.width * 3 + i] = out[y * pw * 3 + i] } }
        return res
    }

    public static func renderU8(_ frame: Frame, models: [PatchModel], settings: Settings) throws -> [UInt8] {
        Pixels.toU8(try renderFloat(frame, models: models, settings: settings))
    }

    static func crop(_ x: [Float], pw: Int, r: Int, c: Int, p: Int) -> [Float] {
        var out = [Float](repeating: 0, count: p * p * 3)
        for i in 0..<p { for j in 0..<(p * 3) { out[i * p * 3 + j] = x[((r + i) * pw + c) * 3 + j] } }
        return out
    }

    /// Step 7: chunks of B in order, the last zero-padded, its padding outputs dropped.
    static func runBatched(_ model: PatchModel, _ patches: [[Float]], _ s: Settings) throws -> [[Float]] {
        let size = s.patch * s.patch * 3
        var out: [[Float]] = []
        var start = 0
        while start < patches.count {
            let n = min(s.batch, patches.count - start)
            var chunk = [Float](repeating: 0, count: s.batch * size)
            for i in 0..<n { for j in 0..<size { chunk[i * size + j] = patches[start + i][j] } }
            let input = s.layout == .NCHW ? Layouts.toNCHW(chunk, n: s.batch, p: s.patch) : chunk
            let result = try model.run(input)
            precondition(result.count == chunk.count, "patch model returned \(result.count) values for \(chunk.count)")
            let y = s.layout == .NCHW ? Layouts.toNHWC(result, n: s.batch, p: s.patch) : result
            for i in 0..<n { out.append(Array(y[(i * size)..<((i + 1) * size)])) }
            start += s.batch
        }
        return out
    }

    /// Step 5: feather = Σ W·y / Σ W in Float with W = w⊗w; paste = later patches overwrite.
    static func blend(_ outputs: [[Float]], rows: [Int], cols: [Int], ph: Int, pw: Int, _ s: Settings) -> [Float] {
        let p = s.patch
        var out = [Float](repeating: 0, count: ph * pw * 3)
        if s.blend == .paste {
            for (k, y) in outputs.enumerated() {
                let r = rows[k / cols.count], c = cols[k % cols.count]
                for i in 0..<p { for j in 0..<(p * 3) { out[((r + i) * pw + c) * 3 + j] = y[i * p * 3 + j] } }
            }
            return out
        }
        let w = Grid.window(patch: p, stride: s.stride)
        var norm = [Float](repeating: 0, count: ph * pw)
        for (k, y) in outputs.enumerated() {
            let r = rows[k / cols.count], c = cols[k % cols.count]
            for i in 0..<p { for j in 0..<p {
                let weight = w[i] * w[j]
                let dst = (r + i) * pw + c + j
                norm[dst] += weight
                for ch in 0..<3 { out[dst * 3 + ch] += weight * y[(i * p + j) * 3 + ch] }
            } }
        }
        for q in 0..<norm.count { for ch in 0..<3 { out[q * 3 + ch] /= norm[q] } }
        return out
    }
}

public enum Layouts {
    public static func toNCHW(_ a: [Float], n: Int, p: Int) -> [Float] {
        var out = [Float](repeating: 0, count: a.count)
        for b in 0..<n { for i in 0..<p { for j in 0..<p { for c in 0..<3 {
            out[((b * 3 + c) * p + i) * p + j] = a[((b * p + i) * p + j) * 3 + c]
        } } } }
        return out
    }

    public static func toNHWC(_ a: [Float], n: Int, p: Int) -> [Float] {
        var out = [Float](repeating: 0, count: a.count)
        for b in 0..<n { for i in 0..<p { for j in 0..<p { for c in 0..<3 {
            out[((b * p + i) * p + j) * 3 + c] = a[((b * 3 + c) * p + i) * p + j]
        } } } }
        return out
    }
}
