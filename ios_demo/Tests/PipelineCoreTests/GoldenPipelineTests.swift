import Foundation
import XCTest
@testable import PipelineCore

/// The bundle's golden/pipeline.npz through this core: floats within 1e-5, uint8 within one level
/// (exactly with the identity stand-in). Bundle from YGAN_BUNDLE.
final class GoldenPipelineTests: XCTestCase {
    func bundle() throws -> Bundle {
        guard let path = ProcessInfo.processInfo.environment["YGAN_BUNDLE"] else { throw XCTSkip("set YGAN_BUNDLE=/path/to/bundle") }
        return try Bundle.read(URL(fileURLWithPath: path))
    }

    func check(_ layout: Layout) throws {
        let b = try bundle()
        let entry = b.golden.first { $0.kind == "pipeline" }!
        let arrays = try Npy.readNpz(b.root.appendingPathComponent(entry.path))
        let cases = entry.cases ?? []
        XCTAssertFalse(cases.isEmpty)
        for kase in cases {
            let f = arrays[kase.frame]!
            let frame = Frame(height: f.shape[0], width: f.shape[1], rgb: f.bytes!)
            let s = Settings(patch: kase.patch, stride: kase.stride, blend: Blend(rawValue: kase.blend)!, batch: kase.batch, layout: layout)
            let got = try Render.renderFloat(frame, models: [StandIn(name: kase.model, a: kase.a, b: kase.b, k: kase.k, patch: kase.patch, layout: layout)], settings: s)
            let want = arrays["\(kase.key).float"]!.floats!
            let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-5, "\(kase.key) \(kase.model) stride \(kase.stride) \(kase.blend)")
            let allowed = kase.model == "identity" ? 0 : 1
            for (g, w) in zip(Pixels.toU8(got), arrays["\(kase.key).u8"]!.bytes!) {
                XCTAssertLessThanOrEqual(abs(Int(g) - Int(w)), allowed, kase.key)
            }
        }
    }

    func testEveryCaseNCHW() throws { try check(.NCHW) }
    func testEveryCaseNHWC() throws { try check(.NHWC) }

    func testGridAndRoundingExamples() {
        XCTAssertEqual(Grid.positions(length: 11, patch: 4, stride: 3), [0, 3, 6, 7])
        XCTAssertEqual(Grid.window(patch: 4, stride: 2), [0.25, 0.75, 0.75, 0.25])
        XCTAssertEqual(Pixels.toU8(0), 128)
        for u in 0...255 { XCTAssertEqual(Int(Pixels.toU8(Pixels.normalise(UInt8(u)))), u) }
        XCTAssertEqual(Quant(scale: 0.5, zeroPoint: 0).quantise(0.75), 2)
        XCTAssertEqual(Quant(scale: 0.5, zeroPoint: 0).quantise(1.25), 2)
    }
}
