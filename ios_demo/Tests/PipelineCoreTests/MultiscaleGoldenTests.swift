import Foundation
import XCTest
@testable import PipelineCore

/// The Kotlin core's MultiscaleGoldenTest in Swift: every spec v2 stand-in case of the bundle's
/// golden/multiscale.npz with an NCHW and an NHWC model, the numpy pipeline's cells and bytes exactly,
/// the still video's layout unchanged from frame to frame, and the held-out golden frames' cells
/// those of the PyTorch pipeline. Bundle from YGAN_BUNDLE.
final class MultiscaleGoldenTests: XCTestCase {
    func golden() throws -> (Bundle, GoldenEntry, [String: NdArray]) {
        guard let path = ProcessInfo.processInfo.environment["YGAN_BUNDLE"] else { throw XCTSkip("set YGAN_BUNDLE=/path/to/bundle") }
        let b = try Bundle.read(URL(fileURLWithPath: path))
        let entry = b.golden.first { $0.kind == "multiscale" }!
        return (b, entry, try Npy.readNpz(b.root.appendingPathComponent(entry.path)))
    }

    func check(_ layout: Layout) throws {
        let (_, entry, arrays) = try golden()
        let cases = entry.stand_ins ?? []
        XCTAssertFalse(cases.isEmpty, "no spec v2 stand-in cases in the bundle")
        for kase in cases {
            let s = try MultiscaleSettings.from(patch: kase.patch, kase)
            let models: [PatchModel] = kase.models.map { StandIn(name: $0, a: kase.a, b: kase.b, k: kase.k, patch: kase.patch, layout: layout) as PatchModel }
            let state = MultiscaleState()
            var layouts: [[Int]] = []
            for (f, name) in kase.frames.enumerated() {
                let arr = arrays[name]!
                let got = try Multiscale.render(Frame(height: arr.shape[0], width: arr.shape[1], rgb: arr.bytes!), models: models, settings: s,
                                                batch: kase.batch, layout: layout, state: state)
                XCTAssertEqual(got.cells, arrays["\(kase.key).layout.\(f)"]!.ints!, "\(kase.key) frame \(f) (\(name)): cells")
                let want = arrays["\(kase.key).u8.\(f)"]!.bytes!
                XCTAssertEqual(want.count, got.rgb.count, "\(kase.key) frame \(f): size")
                XCTAssertEqual(zip(want, got.rgb).filter { $0 != $1 }.count, 0, "\(kase.key) frame \(f) (\(name), \(kase.models)): bytes that differ")
                layouts.append(got.cells)
            }
            for cells in layouts { XCTAssertEqual(cells, layouts[0], "\(kase.key): the still video's layout changed") }
        }
    }

    func testEveryCaseNCHW() throws { try check(.NCHW) }
    func testEveryCaseNHWC() throws { try check(.NHWC) }

    /// The layout needs no model (docs/pipeline.md): the held-out golden frames get the PyTorch pipeline's cells.
    func testTheGoldenFramesGetThePyTorchCells() throws {
        let (b, entry, arrays) = try golden()
        let s = try MultiscaleSettings.from(patch: b.pipeline.patch, entry)
        let frames = arrays.keys.filter { $0.hasPrefix("frame.") }
        XCTAssertFalse(frames.isEmpty, "no golden frames")
        for name in frames {
            let arr = arrays[name]!
            let identity = StandIn(name: "identity", a: nil, b: nil, k: nil, patch: b.pipeline.patch, layout: .NHWC)
            let got = try Multiscale.render(Frame(height: arr.shape[0], width: arr.shape[1], rgb: arr.bytes!), models: [identity], settings: s,
                                            batch: entry.batch!, layout: .NHWC)
            XCTAssertEqual(got.cells, arrays[name.replacingOccurrences(of: "frame", with: "layout")]!.ints!, "\(name): cells")
        }
    }

    func testCasesCoverEveryStandInThemesABudgetAndAVideo() throws {
        let (_, entry, _) = try golden()
        let cases = entry.stand_ins ?? []
        XCTAssertEqual(Set(cases.flatMap { $0.models }), ["identity", "affine", "ramp"])
        XCTAssertTrue(cases.contains { $0.models.count > 1 }, "no case with two themes")
        XCTAssertTrue(cases.contains { $0.frames.count > 1 }, "no video case")
        XCTAssertTrue(cases.contains { ($0.budget ?? 0) < entry.budget! }, "no case with a tight budget")
    }

    func testTheManifestRecordsTheSettings() throws {
        let (b, entry, _) = try golden()
        let s = try MultiscaleSettings.from(patch: b.pipeline.patch, entry)
        XCTAssertEqual(s.largest, entry.largest_cell)
        XCTAssertEqual(s.budget, entry.budget)
        XCTAssertEqual(s, try MultiscaleSettings.from(patch: b.pipeline.patch, nil))  // the bundle's goldens are at the spec's defaults
    }
}
