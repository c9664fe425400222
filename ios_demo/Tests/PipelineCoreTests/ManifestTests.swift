import Foundation
import XCTest
@testable import PipelineCore

/// The Kotlin core's ManifestTest, GridTest and AppModelTest (rotation, goldens left out) in Swift:
/// the same refusals, hand-worked examples and hash rule, so both apps' cores are held to one standard.
final class ManifestTests: XCTestCase {
    func bundleRoot() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["YGAN_BUNDLE"] else { throw XCTSkip("set YGAN_BUNDLE=/path/to/bundle") }
        return URL(fileURLWithPath: path)
    }

    func copy() throws -> URL {
        let dst = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: try bundleRoot(), to: dst)
        return dst
    }

    func refused(_ root: URL, mentions: String, requireGoldens: Bool = true) {
        defer { try? FileManager.default.removeItem(at: root) }  // cleanup of a temporary copy only
        XCTAssertThrowsError(try Bundle.read(root, requireGoldens: requireGoldens)) { error in
            XCTAssertTrue("\(error)".contains(mentions), "message '\(error)' does not mention \(mentions)")
        }
    }

    func testReadsTheBundleAndItsPipelineSettings() throws {
        let b = try Bundle.read(try bundleRoot())
        XCTAssertFalse(b.artifacts.isEmpty)
        XCTAssertTrue((1...b.pipeline.patch).contains(b.pipeline.stride))
    }

    func testOneChangedByteIsRefusedNamingTheFile() throws {
        let root = try copy()
        let target = try Bundle.read(root).golden[0]  // a plain file in every bundle (.mlpackage artifacts are folders)
        let url = root.appendingPathComponent(target.path)
        var data = try Data(contentsOf: url)
        data[data.count / 2] ^= 1
        try data.write(to: url)
        refused(root, mentions: target.path)
    }

    func testAPathLeavingTheBundleIsRefused() throws {
        let root = try copy()
        let manifest = root.appendingPathComponent("manifest.json")
        let first = try Bundle.read(root).artifacts[0].path
        let text = try String(contentsOf: manifest, encoding: .utf8).replacingOccurrences(of: "\"\(first)\"", with: "\"../\(first)\"")
        try text.write(to: manifest, atomically: true, encoding: .utf8)
        refused(root, mentions: "leaves the bundle")
    }

    func testAnUnknownVersionIsRefused() throws {
        let root = try copy()
        let manifest = root.appendingPathComponent("manifest.json")
        let text = try String(contentsOf: manifest, encoding: .utf8)
            .replacingOccurrences(of: #""version":\s*1"#, with: "\"version\": 99", options: .regularExpression)
        try text.write(to: manifest, atomically: true, encoding: .utf8)
        refused(root, mentions: "version 99")
    }

    func testAReleaseBundleWithoutGoldensIsReadOnlyWhenAsked() throws {
        let root = try copy()
        try FileManager.default.removeItem(at: root.appendingPathComponent("golden"))
        XCTAssertEqual(try Bundle.read(root, requireGoldens: false).artifacts.count, try Bundle.read(try bundleRoot()).artifacts.count)
        refused(root, mentions: "missing")
    }

    func testDirectoryHashFollowsTheSpec() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pkg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("b"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: dir.appendingPathComponent("b/x.bin"))
        try Data("{}".utf8).write(to: dir.appendingPathComponent("a.json"))
        // the Kotlin test's value: sha256 of "<sha256('{}')>  a.json\n<sha256('x')>  b/x.bin\n"
        XCTAssertEqual(try Hashing.tree(dir), "ec49d5fa48f4dc2a533ca8193a959c479c22581e49184b2255aa839089e32e8d")
        try FileManager.default.removeItem(at: dir)
    }

    func testInt8RoundsHalfToEvenAndClips() {
        let q = Quant(scale: 0.5, zeroPoint: 0)
        XCTAssertEqual(q.quantise(0.25), 0)
        XCTAssertEqual(q.quantise(0.75), 2)
        XCTAssertEqual(q.quantise(1.25), 2)
        XCTAssertEqual(q.quantise(1000), 127)
        XCTAssertEqual(q.quantise(-1000), -128)
        let shifted = Quant(scale: 0.5, zeroPoint: -1)
        XCTAssertEqual(shifted.quantise(1), 1)
        XCTAssertEqual(shifted.dequantise(0), 0.5)
    }

    func testPixelBytesReadTheByteAsSignedBothWays() {
        let q = Quant(scale: 2 / 255, zeroPoint: 0, pixelBytes: true)
        for u in 0...255 {
            XCTAssertEqual(q.quantise(Pixels.normalise(UInt8(u))), u - 128)
            XCTAssertEqual(Int(Pixels.toU8(q.dequantise(u - 128))), u)  // an identity model gives back every byte
        }
        XCTAssertEqual(q.quantise(-0.5 * q.scale), -1)  // off the pixel grid: rounded down
        let calibrated = Quant(scale: 2 / 255, zeroPoint: -1)
        XCTAssertGreaterThan((0...255).filter { Int(Pixels.toU8(calibrated.dequantise(calibrated.quantise(Pixels.normalise(UInt8($0)))))) != $0 }.count, 128)
    }

    func testRoundingClipsBothEnds() {
        XCTAssertEqual(Pixels.toU8(-1), 0)
        XCTAssertEqual(Pixels.toU8(1), 255)
        XCTAssertEqual(Pixels.toU8(3), 255)
        XCTAssertEqual(Pixels.toU8(-3), 0)
        XCTAssertEqual(Grid.positions(length: 10, patch: 4, stride: 3), [0, 3, 6])
        XCTAssertEqual(Grid.positions(length: 4, patch: 4, stride: 4), [0])
        XCTAssertEqual(Grid.window(patch: 4, stride: 4), [1, 1, 1, 1])
    }

    func testPasteLetsTheLaterPatchWin() throws {
        // a 4×6 frame, a 4-wide model, stride 2: patches at columns 0 and 2 overlap at columns 2-3
        final class Counting: PatchModel {
            var calls = 0
            func run(_ x: [Float]) throws -> [Float] {
                calls += 1
                return x.indices.map { Float($0 / (4 * 4 * 3)) / 10 }
            }
        }
        let model = Counting()
        let out = try Render.renderFloat(Frame(height: 4, width: 6, rgb: [UInt8](repeating: 0, count: 4 * 6 * 3)),
                                         models: [model], settings: Settings(patch: 4, stride: 2, blend: .paste, batch: 2, layout: .NHWC))
        XCTAssertEqual(model.calls, 1)
        XCTAssertEqual(out[0], 0)
        XCTAssertEqual(out[2 * 3], 0.1)
    }

    func testFramesAreTurnedUprightByTheCamerasRotation() throws {
        // 3 wide, 2 high, one value per pixel in every channel: a b c / d e f
        func frame(_ values: [UInt8], _ w: Int, _ h: Int) -> Frame { Frame(height: h, width: w, rgb: values.flatMap { [$0, $0, $0] }) }
        func values(_ f: Frame) -> [UInt8] { stride(from: 0, to: f.rgb.count, by: 3).map { f.rgb[$0] } }
        let img = frame([1, 2, 3, 4, 5, 6], 3, 2)
        let r90 = try Rotation.upright(img, degrees: 90)
        XCTAssertEqual([r90.width, r90.height], [2, 3])
        XCTAssertEqual(values(r90), [4, 1, 5, 2, 6, 3])
        XCTAssertEqual(values(try Rotation.upright(img, degrees: 180)), [6, 5, 4, 3, 2, 1])
        XCTAssertEqual(values(try Rotation.upright(img, degrees: 270)), [3, 6, 2, 5, 1, 4])
        var turned = img
        for _ in 0..<4 { turned = try Rotation.upright(turned, degrees: 90) }
        XCTAssertEqual(turned.rgb, img.rgb)
        XCTAssertThrowsError(try Rotation.upright(img, degrees: 45)) { XCTAssertTrue("\($0)".contains("0, 90, 180 or 270")) }
    }
}
