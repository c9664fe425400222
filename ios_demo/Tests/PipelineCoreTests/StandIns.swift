import Foundation
@testable import PipelineCore

/// docs/bundle.md's stand-in models, shared by the v1 and v2 golden tests (the Kotlin tests' StandIns):
/// identity; affine y = a·x + b per channel; ramp = affine + k·(i − j)/P in the patch.
struct StandIn: PatchModel {
    let name: String
    let a: [Float]?, b: [Float]?, k: Float?
    let patch: Int
    let layout: Layout

    func run(_ x: [Float]) throws -> [Float] {
        if name == "identity" { return x }
        let p = patch, a = self.a!, b = self.b!, k: Float = name == "ramp" ? self.k! : 0
        return x.indices.map { idx in
            let (c, i, j) = layout == .NHWC ? (idx % 3, (idx / (3 * p)) % p, (idx / 3) % p)
                                            : ((idx / (p * p)) % 3, (idx / p) % p, idx % p)
            let affine = a[c] * x[idx] + b[c]
            return k == 0 ? affine : affine + k * Float(i - j) / Float(p)
        }
    }
}
