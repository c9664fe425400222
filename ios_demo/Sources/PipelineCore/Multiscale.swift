import Foundation

/// A spec v2 setting that cannot run, in one line.
public struct SettingsError: Error, CustomStringConvertible {
    public let description: String
}

/// What a manifest records of spec v2: the `multiscale` golden entry and each of its cases.
public protocol MultiscaleRecord {
    var largest_cell: Int? { get }
    var smallest_cell: Int? { get }
    var threshold: Int? { get }
    var hysteresis: Int? { get }
    var budget: Int? { get }
}

/// Spec v2's parameters (docs/pipeline.md, "multi-scale cells"): cell sizes in pixels from `largest`
/// down to `smallest`, the split `threshold` on a cell's block-luma variance, the video `hysteresis`
/// and the `budget` of cells (model inputs) per frame. Bad values are refused in one line.
public struct MultiscaleSettings: Equatable {
    public let patch: Int, largest: Int, smallest: Int, threshold: Int, hysteresis: Int, budget: Int

    public static let defaultThreshold = 64
    public static let defaultHysteresis = 16
    public static let defaultBudget = 512
    public static let defaultLargestTimes = 4  // largest cell 4·P
    public static let defaultSmallestDivisor = 2  // smallest cell P/2

    public init(patch: Int, largest: Int, smallest: Int, threshold: Int, hysteresis: Int, budget: Int) throws {
        func powerOfTwo(_ n: Int) -> Bool { n >= 1 && (n & (n - 1)) == 0 }
        guard patch >= 2 && patch % 2 == 0 else { throw SettingsError(description: "patch \(patch): spec v2 needs an even patch size") }
        guard largest % patch == 0 && powerOfTwo(largest / patch) else {
            throw SettingsError(description: "largest cell \(largest) must be the patch \(patch) times a power of two (e.g. \(4 * patch))")
        }
        guard smallest >= 2 && patch % smallest == 0 && powerOfTwo(patch / smallest) else {
            throw SettingsError(description: "smallest cell \(smallest) must be the patch \(patch) divided by a power of two, and at least 2 (e.g. \(patch / 2))")
        }
        guard threshold >= 0 else { throw SettingsError(description: "threshold \(threshold) must be 0 or more") }
        guard (0...threshold).contains(hysteresis) else { throw SettingsError(description: "hysteresis \(hysteresis) must be between 0 and the threshold \(threshold)") }
        guard budget >= 1 else { throw SettingsError(description: "budget \(budget) must be at least 1 cell per frame") }
        self.patch = patch; self.largest = largest; self.smallest = smallest
        self.threshold = threshold; self.hysteresis = hysteresis; self.budget = budget
    }

    /// C_0 = largest, C_1 = largest/2, …, C_K = smallest.
    public var sizes: [Int] {
        var out = [largest]
        while out.last! > smallest { out.append(out.last! / 2) }
        return out
    }

    /// The manifest's `multiscale` golden entry (or one of its cases); the spec's defaults where it is absent.
    public static func from(patch: Int, _ o: MultiscaleRecord?) throws -> MultiscaleSettings {
        try MultiscaleSettings(
            patch: patch, largest: o?.largest_cell ?? defaultLargestTimes * patch, smallest: o?.smallest_cell ?? patch / defaultSmallestDivisor,
            threshold: o?.threshold ?? defaultThreshold, hysteresis: o?.hysteresis ?? defaultHysteresis, budget: o?.budget ?? defaultBudget)
    }

    func with(budget: Int) throws -> MultiscaleSettings {
        try MultiscaleSettings(patch: patch, largest: largest, smallest: smallest, threshold: threshold, hysteresis: hysteresis, budget: budget)
    }
}

/// A square cell of the padded frame, with its step-3 statistics once the layout has looked at it.
public final class Cell {
    public let top: Int, left: Int, size: Int
    var s1 = 0
    var detail = 0
    var wasSplit = false
    var split = false

    init(_ top: Int, _ left: Int, _ size: Int) { self.top = top; self.left = left; self.size = size }
}

/// Step 3's sums on one size's grid of cells, row-major.
public struct CellSums {
    public let rows: Int, cols: Int
    public let s1: [Int], s2: [Int]
}

/// A frame's layout: its leaves in paste order, and the split cells the next frame takes as `prev` when `key` matches.
public struct CellLayout {
    public let key: String
    public let split: Set<String>
    public let leaves: [Cell]
    public let count: Int
}

/// What a video carries from frame to frame: the previous layout (hysteresis). One per stream of frames.
public final class MultiscaleState {
    public var previous: CellLayout?
    public init() {}
}

/// One v2 frame: H×W×3 bytes, the cells K×4 (top, left, size, theme) in paste order and, when asked, each cell's model output K×P×P×3.
public struct MultiscaleFrame {
    public let rgb: [UInt8]
    public let cells: [Int]
    public let floats: [Float]?
}

public struct Taps {
    public let lo: [Int], hi: [Int], w0: [Int], w1: [Int]
}

/// Spec v2 steps 1–10. Everything but the model call and v1's normalisation and rounding around it is
/// integer arithmetic, so this core writes the numpy pipeline's bytes; the model runs behind the v1
/// `PatchModel` protocol, in chunks of B by `Render.runBatched`. Mirrors the Kotlin core's Multiscale.kt.
public enum Multiscale {
    static let luma = [77, 150, 29]  // BT.601 in 256ths

    static func log2(_ n: Int) -> Int { Int.bitWidth - 1 - n.leadingZeroBitCount }

    /// floor(a / b) for b > 0 (Swift's `/` truncates toward zero).
    static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// Step 1: edge replication at the bottom and right up to multiples of the largest cell; (H2, W2, bytes).
    public static func padToCells(_ frame: Frame, largest: Int) -> (Int, Int, [UInt8]) {
        let h2 = (frame.height + largest - 1) / largest * largest
        let w2 = (frame.width + largest - 1) / largest * largest
        if h2 == frame.height && w2 == frame.width { return (h2, w2, frame.rgb) }
        var data = [UInt8](repeating: 0, count: h2 * w2 * 3)
        for r in 0..<h2 { for c in 0..<w2 { for ch in 0..<3 {
            data[(r * w2 + c) * 3 + ch] = frame.rgb[(min(r, frame.height - 1) * frame.width + min(c, frame.width - 1)) * 3 + ch]
        } } }
        return (h2, w2, data)
    }

    /// Step 2: (77·R + 150·G + 29·B + 128) >> 8 of each 2×2 block's top-left pixel, (H2/2)×(W2/2) row-major.
    public static func blockLuma(_ data: [UInt8], _ h2: Int, _ w2: Int) -> [Int] {
        let cols = w2 / 2
        var y = [Int](repeating: 0, count: h2 / 2 * cols)
        for i in 0..<(h2 / 2) { for j in 0..<cols {
            let a = ((2 * i) * w2 + 2 * j) * 3
            y[i * cols + j] = (luma[0] * Int(data[a]) + luma[1] * Int(data[a + 1]) + luma[2] * Int(data[a + 2]) + 128) >> 8
        } }
        return y
    }

    /// Step 3: S1 = Σ y and S2 = Σ y² per cell at the smallest size, each larger size the sum of its four children; sizes[k]'s grid at [k].
    public static func cellSums(_ y: [Int], _ h2: Int, _ w2: Int, _ sizes: [Int]) -> [CellSums] {
        let k = sizes.last! / 2
        let yCols = w2 / 2
        var rows = h2 / sizes.last!
        var cols = w2 / sizes.last!
        var s1 = [Int](repeating: 0, count: rows * cols)
        var s2 = [Int](repeating: 0, count: rows * cols)
        for i in 0..<(h2 / 2) { for j in 0..<yCols {
            let v = y[i * yCols + j]
            let at = (i / k) * cols + j / k
            s1[at] += v
            s2[at] += v * v
        } }
        var out = [CellSums(rows: rows, cols: cols, s1: s1, s2: s2)]
        for _ in 0..<(sizes.count - 1) {
            let r2 = rows / 2, c2 = cols / 2
            var t1 = [Int](repeating: 0, count: r2 * c2)
            var t2 = [Int](repeating: 0, count: r2 * c2)
            for r in 0..<rows { for c in 0..<cols {
                t1[(r / 2) * c2 + c / 2] += s1[r * cols + c]
                t2[(r / 2) * c2 + c / 2] += s2[r * cols + c]
            } }
            rows = r2; cols = c2; s1 = t1; s2 = t2
            out.insert(CellSums(rows: rows, cols: cols, s1: s1, s2: s2), at: 0)
        }
        return out
    }

    /// (n·S2 − S1²) div n², n = (C/2)² blocks: the cell's block-luma variance in levels², floored.
    public static func detail(_ s1: Int, _ s2: Int, _ size: Int) -> Int {
        let n = (size / 2) * (size / 2)
        return floorDiv(n * s2 - s1 * s1, n * n)
    }

    /// min((m·S1) div (256·n), m − 1): the luminance band of a cell, darkest → theme 0.
    public static func band(_ s1: Int, _ size: Int, _ themes: Int) -> Int {
        let n = (size / 2) * (size / 2)
        return min(floorDiv(themes * s1, 256 * n), themes - 1)
    }

    static func key(_ size: Int, _ top: Int, _ left: Int) -> String { "\(size):\(top):\(left)" }

    /// Step 4. Level by level, largest first: the live cells of that size whose detail is above their
    /// bar (T; with a previous layout T − Hy for cells split then, T + Hy for the others), those split
    /// before first, then by detail descending, then row-major, split while the budget holds; the first
    /// that would exceed it stops the level.
    public static func chooseLayout(_ sums: [CellSums], _ sizes: [Int], height: Int, width: Int, h2: Int, w2: Int,
                                    _ s: MultiscaleSettings, prev: CellLayout?) -> CellLayout {
        let key = ["\(h2)", "\(w2)", sizes.map(String.init).joined(separator: "/"), "\(s.threshold)", "\(s.hysteresis)", "\(s.budget)"]
            .joined(separator: ",")
        let was = prev != nil && prev!.key == key ? prev!.split : nil
        var cells: [Cell] = []
        for top in stride(from: 0, to: h2, by: sizes[0]) { for left in stride(from: 0, to: w2, by: sizes[0]) { cells.append(Cell(top, left, sizes[0])) } }
        var count = cells.count
        var split = Set<String>()
        var leaves: [Cell] = []
        for (level, size) in sizes.enumerated() {
            let grid = sums[level]
            for cell in cells {
                let at = (cell.top / size) * grid.cols + cell.left / size
                cell.s1 = grid.s1[at]
                cell.detail = detail(grid.s1[at], grid.s2[at], size)
                cell.wasSplit = was != nil && was!.contains(Multiscale.key(size, cell.top, cell.left))
            }
            if level == sizes.count - 1 {
                leaves.append(contentsOf: cells)
                break
            }
            func bar(_ cell: Cell) -> Int {
                if was == nil { return s.threshold }
                return cell.wasSplit ? s.threshold - s.hysteresis : s.threshold + s.hysteresis
            }
            let cand = cells.filter { $0.detail > bar($0) }.sorted { a, b in
                if a.wasSplit != b.wasSplit { return a.wasSplit }
                if a.detail != b.detail { return a.detail > b.detail }
                if a.top != b.top { return a.top < b.top }
                return a.left < b.left
            }
            let h = size / 2
            var next: [Cell] = []
            for cell in cand {
                let kids = [(0, 0), (0, h), (h, 0), (h, h)]
                    .map { Cell(cell.top + $0.0, cell.left + $0.1, h) }
                    .filter { $0.top < height && $0.left < width }
                if count + kids.count - 1 > s.budget { break }
                count += kids.count - 1
                cell.split = true
                split.insert(Multiscale.key(size, cell.top, cell.left))
                next.append(contentsOf: kids)
            }
            leaves.append(contentsOf: cells.filter { !$0.split })
            cells = next.sorted { $0.top != $1.top ? $0.top < $1.top : $0.left < $1.left }
        }
        return CellLayout(key: key, split: split, leaves: leaves, count: count)
    }

    /// Step 6: a cell as a P×P×3 patch — its box mean rounded half up (C ≥ P) or its replication (C < P).
    public static func cellToPatch(_ data: [UInt8], w2: Int, top: Int, left: Int, size: Int, patch: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: patch * patch * 3)
        if size >= patch {
            let f = size / patch
            let shift = 2 * Multiscale.log2(f)
            let half = f * f / 2
            for i in 0..<patch { for j in 0..<patch { for ch in 0..<3 {
                var acc = half
                for u in 0..<f { for v in 0..<f { acc += Int(data[((top + f * i + u) * w2 + left + f * j + v) * 3 + ch]) } }
                out[(i * patch + j) * 3 + ch] = UInt8(acc >> shift)
            } } }
            return out
        }
        let g = patch / size
        for i in 0..<patch { for j in 0..<patch { for ch in 0..<3 {
            out[(i * patch + j) * 3 + ch] = data[((top + i / g) * w2 + left + j / g) * 3 + ch]
        } } }
        return out
    }

    /// Step 8's taps on one axis of a cell C = P·f: source rows lo, hi and weights w0, w1 in units of 1/(2f).
    public static func bilinearTaps(size: Int, patch: Int) -> Taps {
        let f = size / patch
        var lo = [Int](repeating: 0, count: size), hi = lo, w0 = lo, w1 = lo
        for t in 0..<size {
            let num = 2 * t + 1 - f
            let i0 = floorDiv(num, 2 * f)
            let r = num - 2 * f * i0
            lo[t] = min(max(i0, 0), patch - 1)
            hi[t] = min(max(i0 + 1, 0), patch - 1)
            w0[t] = 2 * f - r
            w1[t] = r
        }
        return Taps(lo: lo, hi: hi, w0: w0, w1: w1)
    }

    /// Step 8: a rounded P×P×3 output back to its C×C×3 cell — as is, integer bilinear up (rows first), or box mean down.
    public static func patchToCell(_ q: [UInt8], patch: Int, size: Int) -> [UInt8] {
        if size == patch { return q }
        var out = [UInt8](repeating: 0, count: size * size * 3)
        if size < patch {
            let g = patch / size
            let shift = 2 * Multiscale.log2(g)
            let half = g * g / 2
            for i in 0..<size { for j in 0..<size { for ch in 0..<3 {
                var acc = half
                for u in 0..<g { for v in 0..<g { acc += Int(q[((g * i + u) * patch + g * j + v) * 3 + ch]) } }
                out[(i * size + j) * 3 + ch] = UInt8(acc >> shift)
            } } }
            return out
        }
        let f = size / patch
        let shift = 2 * Multiscale.log2(f) + 2
        let half = 2 * f * f
        let t = bilinearTaps(size: size, patch: patch)
        var h = [Int](repeating: 0, count: patch * size * 3)
        for i in 0..<patch { for v in 0..<size { for ch in 0..<3 {
            h[(i * size + v) * 3 + ch] = t.w0[v] * Int(q[(i * patch + t.lo[v]) * 3 + ch]) + t.w1[v] * Int(q[(i * patch + t.hi[v]) * 3 + ch])
        } } }
        for u in 0..<size { for v in 0..<size { for ch in 0..<3 {
            out[(u * size + v) * 3 + ch] =
                UInt8((t.w0[u] * h[(t.lo[u] * size + v) * 3 + ch] + t.w1[u] * h[(t.hi[u] * size + v) * 3 + ch] + half) >> shift)
        } } }
        return out
    }

    /// Steps 1–10: `models` one per theme (several: luminance bands), each behind the v1 protocol at
    /// the artifact's fixed `batch` and `layout`. `state` carries the layout to the next frame of the
    /// same stream (video); nil renders a single photograph.
    public static func render(_ frame: Frame, models: [PatchModel], settings s: MultiscaleSettings, batch: Int, layout: Layout,
                              state: MultiscaleState? = nil, keepFloat: Bool = false) throws -> MultiscaleFrame {
        let p = s.patch
        let sizes = s.sizes
        let (h2, w2, data) = padToCells(frame, largest: sizes[0])
        let sums = cellSums(blockLuma(data, h2, w2), h2, w2, sizes)
        let chosen = chooseLayout(sums, sizes, height: frame.height, width: frame.width, h2: h2, w2: w2, s, prev: state?.previous)
        state?.previous = chosen
        let leaves = chosen.leaves
        let theme = leaves.map { models.count == 1 ? 0 : band($0.s1, $0.size, models.count) }
        let size = p * p * 3
        var done = [[UInt8]](repeating: [], count: leaves.count)
        var floats: [Float]? = keepFloat ? [Float](repeating: 0, count: leaves.count * size) : nil
        let v1 = Settings(patch: p, stride: p, blend: .paste, batch: batch, layout: layout)
        for t in models.indices {
            let members = leaves.indices.filter { theme[$0] == t }
            let patches = members.map { k -> [Float] in
                let c = leaves[k]
                return cellToPatch(data, w2: w2, top: c.top, left: c.left, size: c.size, patch: p).map(Pixels.normalise)
            }
            for (i, y) in try Render.runBatched(models[t], patches, v1).enumerated() {
                done[members[i]] = Pixels.toU8(y)
                if floats != nil { floats!.replaceSubrange((members[i] * size)..<((members[i] + 1) * size), with: y) }
            }
        }
        var out = [UInt8](repeating: 0, count: h2 * w2 * 3)
        var cells = [Int](repeating: 0, count: leaves.count * 4)
        for (k, c) in leaves.enumerated() {
            let o = patchToCell(done[k], patch: p, size: c.size)
            for u in 0..<c.size { for x in 0..<(c.size * 3) { out[((c.top + u) * w2 + c.left) * 3 + x] = o[u * c.size * 3 + x] } }
            cells[4 * k] = c.top; cells[4 * k + 1] = c.left; cells[4 * k + 2] = c.size; cells[4 * k + 3] = theme[k]
        }
        if h2 == frame.height && w2 == frame.width { return MultiscaleFrame(rgb: out, cells: cells, floats: floats) }
        var rgb = [UInt8](repeating: 0, count: frame.height * frame.width * 3)
        for r in 0..<frame.height { for x in 0..<(frame.width * 3) { rgb[r * frame.width * 3 + x] = out[r * w2 * 3 + x] } }
        return MultiscaleFrame(rgb: rgb, cells: cells, floats: floats)
    }
}
