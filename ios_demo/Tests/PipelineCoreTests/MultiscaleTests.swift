import Foundation
import XCTest
@testable import PipelineCore

/// The Kotlin core's MultiscaleTest in Swift: spec v2's integer steps on hand-computed values — block
/// luma, variance, bilinear taps for f = 2 and 4, the budget stop, hysteresis, settings.
final class MultiscaleTests: XCTestCase {
    func gray(_ v: Int...) -> [UInt8] { v.flatMap { [UInt8($0), UInt8($0), UInt8($0)] } }
    func red(_ a: [UInt8]) -> [Int] { stride(from: 0, to: a.count, by: 3).map { Int(a[$0]) } }

    func testBlockLumaIsBt601InTwoHundredFiftySixthsOfTheTopLeftPixel() {
        XCTAssertEqual(Multiscale.blockLuma(gray(255, 255, 255, 255), 2, 2), [255])  // (256·255 + 128) >> 8
        let block: [UInt8] = [10, 20, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        XCTAssertEqual(Multiscale.blockLuma(block, 2, 2), [18])  // (77·10 + 150·20 + 29·30 + 128) >> 8 = 4768 >> 8
        // only the top-left pixel counts: a 4×2 frame, blocks (100, 0, 0, 0) and (0, 200, 200, 200)
        XCTAssertEqual(Multiscale.blockLuma(gray(100, 0, 0, 200, 0, 0, 200, 200), 2, 4), [100, 0])
    }

    func testDetailIsTheFlooredVarianceOfTheBlockLumas() {
        XCTAssertEqual(Multiscale.detail(255, 255 * 255, 4), 12192)  // lumas 255, 0, 0, 0: (4·65025 − 255²) div 16
        XCTAssertEqual(Multiscale.detail(4 * 77, 4 * 77 * 77, 4), 0)
        XCTAssertEqual(Multiscale.detail(6, 14, 4), 1)  // lumas 0..3: (56 − 36) div 16
        let n = 2048 * 2048  // a 4096-px cell, half its lumas 0, half 255: n·S2 ≈ 5.7·10^17 fits an Int
        XCTAssertEqual(Multiscale.detail(255 * n / 2, 65025 * n / 2, 4096), 16256)  // 32512.5 − 127.5² = 16256.25
    }

    func testBilinearTapsForFTwoWeighQuarters() {
        let t = Multiscale.bilinearTaps(size: 4, patch: 2)
        XCTAssertEqual(t.lo, [0, 0, 0, 1])
        XCTAssertEqual(t.hi, [0, 1, 1, 1])
        XCTAssertEqual(t.w0, [1, 3, 1, 3])
        XCTAssertEqual(t.w1, [3, 1, 3, 1])
        let cell = red(Multiscale.patchToCell(gray(0, 100, 0, 100), patch: 2, size: 4))
        XCTAssertEqual(cell, (0..<16).map { [0, 25, 75, 100][$0 % 4] })  // 302 >> 2 = 75
    }

    func testBilinearTapsForFFourWeighEighths() {
        let t = Multiscale.bilinearTaps(size: 8, patch: 2)
        XCTAssertEqual(t.lo, [0, 0, 0, 0, 0, 0, 1, 1])
        XCTAssertEqual(t.hi, [0, 0, 1, 1, 1, 1, 1, 1])
        XCTAssertEqual(t.w1, [5, 7, 1, 3, 5, 7, 1, 3])
        XCTAssertEqual(t.w0, [3, 1, 7, 5, 3, 1, 7, 5])
        let cell = red(Multiscale.patchToCell(gray(0, 160, 0, 160), patch: 2, size: 8))
        XCTAssertEqual(Array(cell[0..<8]), [0, 0, 20, 60, 100, 140, 160, 160])
    }

    func testToAPatchBoxMeanOrReplicationAndBackByBoxMean() {
        let cell = gray(0, 1, 10, 10, 2, 2, 10, 11, 0, 0, 0, 0, 0, 0, 0, 1)
        XCTAssertEqual(red(Multiscale.cellToPatch(cell, w2: 4, top: 0, left: 0, size: 4, patch: 2)), [1, 10, 0, 0])  // 5/4 → 1, 41/4 → 10
        XCTAssertEqual(red(Multiscale.cellToPatch(gray(7, 9, 0, 0), w2: 2, top: 0, left: 0, size: 1, patch: 2)), [7, 7, 7, 7])
        XCTAssertEqual(red(Multiscale.patchToCell(gray(1, 2, 2, 2), patch: 2, size: 1)), [2])  // (7 + 2) >> 2
    }

    /// Two cells of 4 (n = 4 blocks) side by side with the given details (S1 = 0, S2 = 4·D), and their children.
    func sums(_ d0: Int, _ d1: Int) -> [CellSums] {
        [CellSums(rows: 1, cols: 2, s1: [0, 0], s2: [4 * d0, 4 * d1]),
         CellSums(rows: 2, cols: 4, s1: [Int](repeating: 0, count: 8), s2: [Int](repeating: 0, count: 8))]
    }

    func base() throws -> MultiscaleSettings { try MultiscaleSettings(patch: 2, largest: 4, smallest: 2, threshold: 64, hysteresis: 16, budget: 512) }
    func cells(_ l: CellLayout) -> [[Int]] { l.leaves.map { [$0.top, $0.left, $0.size] } }

    func testTheBudgetStopsALevelAtTheFirstCellThatDoesNotFit() throws {
        let s = try base().with(budget: 5)
        let l = Multiscale.chooseLayout(sums(100, 200), [4, 2], height: 4, width: 8, h2: 4, w2: 8, s, prev: nil)
        XCTAssertEqual(l.count, 5)  // the more detailed right cell splits: 2 + 3; the left one would make 8
        XCTAssertEqual(cells(l), [[0, 0, 4], [0, 4, 2], [0, 6, 2], [2, 4, 2], [2, 6, 2]])
        let tie = Multiscale.chooseLayout(sums(100, 100), [4, 2], height: 4, width: 8, h2: 4, w2: 8, s, prev: nil)
        XCTAssertEqual(cells(tie)[0], [0, 4, 4])  // equal detail: row-major, the left one splits
    }

    func testCellsWhollyInThePaddingDoNotExist() throws {
        let l = Multiscale.chooseLayout(sums(0, 200), [4, 2], height: 3, width: 6, h2: 4, w2: 8, try base().with(budget: 3), prev: nil)
        XCTAssertEqual(l.count, 3)
        XCTAssertEqual(cells(l), [[0, 0, 4], [0, 4, 2], [2, 4, 2]])
    }

    func testHysteresisHoldsASplitDownToTMinusHyAndNeedsTPlusHyForANewOne() throws {
        let s = try base()
        let first = Multiscale.chooseLayout(sums(70, 60), [4, 2], height: 4, width: 8, h2: 4, w2: 8, s, prev: nil)  // no state: bar T = 64
        XCTAssertEqual(first.split, ["4:0:0"])
        let held = Multiscale.chooseLayout(sums(50, 79), [4, 2], height: 4, width: 8, h2: 4, w2: 8, s, prev: first)  // bars 48 and 80
        XCTAssertEqual(held.split, ["4:0:0"])
        let dropped = Multiscale.chooseLayout(sums(48, 81), [4, 2], height: 4, width: 8, h2: 4, w2: 8, s, prev: held)
        XCTAssertEqual(dropped.split, ["4:0:4"])
        let changed = Multiscale.chooseLayout(sums(50, 79), [4, 2], height: 4, width: 8, h2: 4, w2: 8, try s.with(budget: 511), prev: first)
        XCTAssertEqual(changed.split, ["4:0:4"])  // another budget: no state
    }

    func testSettingsDefaultToTheSpecAndRefuseBadValuesInOneLine() throws {
        XCTAssertEqual(try MultiscaleSettings.from(patch: 32, nil).sizes, [128, 64, 32, 16])
        XCTAssertThrowsError(try MultiscaleSettings(patch: 16, largest: 48, smallest: 8, threshold: 64, hysteresis: 16, budget: 512)) { error in
            XCTAssertTrue("\(error)".hasPrefix("largest cell 48 must be the patch 16 times a power of two"), "\(error)")
        }
        XCTAssertThrowsError(try MultiscaleSettings(patch: 16, largest: 64, smallest: 8, threshold: 8, hysteresis: 9, budget: 512)) { error in
            XCTAssertTrue("\(error)".contains("hysteresis 9"), "\(error)")
        }
    }

    final class Recording: PatchModel {
        var calls: [Int] = []
        func run(_ x: [Float]) throws -> [Float] { calls.append(x.count); return x }
    }

    func testAnIdentityModelReturnsAFlatFrameAndBatchesEverySizeTogether() throws {
        let identity = Recording()
        let frame = Frame(height: 5, width: 7, rgb: [UInt8](repeating: 77, count: 5 * 7 * 3))
        let out = try Multiscale.render(frame, models: [identity], settings: try base(), batch: 3, layout: .NHWC)
        XCTAssertEqual(out.rgb, frame.rgb)
        XCTAssertEqual(out.cells, [0, 0, 4, 0, 0, 4, 4, 0, 4, 0, 4, 0, 4, 4, 4, 0])
        XCTAssertEqual(identity.calls, [36, 36])  // 4 cells in chunks of 3, the last zero-padded
    }
}
