#if canImport(CryptoKit)
import CryptoKit
#else
import Crypto  // swift-crypto on Linux: the same SHA256 API
#endif
import Foundation

public struct ManifestError: Error, CustomStringConvertible {
    public let description: String
}

public struct TensorSpec: Decodable {
    public let name: String
    public let shape: [Int]
    public let dtype: String
    public let scale: Float?
    public let zero_point: Int?
    public let pixel_bytes: Bool?

    public var quant: Quant? {
        switch dtype {
        case "int8": return Quant(scale: scale!, zeroPoint: zero_point!, lo: -128, hi: 127, pixelBytes: pixel_bytes ?? false)
        case "uint8": return Quant(scale: scale!, zeroPoint: zero_point!, lo: 0, hi: 255, pixelBytes: pixel_bytes ?? false)
        default: return nil
        }
    }
}

public struct Artifact: Decodable {
    public let id: String, path: String, format: String, role: String, theme: String?, precision: String, layout: String
    public let batch: Int
    public let inputs: [TensorSpec]
    public let outputs: [TensorSpec]
    public let sha256: String
}

public struct StandInCase: Decodable {
    public let key: String, frame: String, model: String, blend: String
    public let patch: Int, stride: Int, batch: Int, height: Int, width: Int
    public let a: [Float]?, b: [Float]?, k: Float?
}

/// A spec v2 stand-in case (golden kind `multiscale`): its models (one per theme), frames rendered in order, settings.
public struct MultiscaleCase: Decodable, MultiscaleRecord {
    public let key: String
    public let models: [String], frames: [String]
    public let patch: Int, batch: Int
    public let largest_cell: Int?, smallest_cell: Int?, threshold: Int?, hysteresis: Int?, budget: Int?
    public let a: [Float]?, b: [Float]?, k: Float?
}

public struct GoldenEntry: Decodable, MultiscaleRecord {
    public let path: String, kind: String, sha256: String
    public let batch: Int?
    public let cases: [StandInCase]?
    public let largest_cell: Int?, smallest_cell: Int?, threshold: Int?, hysteresis: Int?, budget: Int?
    public let stand_ins: [MultiscaleCase]?
}

public struct PipelineSettings: Decodable {
    public let patch: Int, stride: Int, blend: String, batch: Int
}

struct ManifestDoc: Decodable {
    let schema: String
    let version: Int
    let themes: [String]
    let pipeline: PipelineSettings
    let artifacts: [Artifact]
    let golden: [GoldenEntry]
}

/// A bundle read as docs/bundle.md requires: known schema and version, paths inside the bundle,
/// every listed file with the manifest's sha256 — otherwise refused whole, naming the file. The app
/// ships without the golden vectors (they are for tests): `requireGoldens: false` lets listed golden
/// files be absent and still checks any that are present.
public struct Bundle {
    public let root: URL
    public let themes: [String]
    public let pipeline: PipelineSettings
    public let artifacts: [Artifact]
    public let golden: [GoldenEntry]

    public static func read(_ root: URL, requireGoldens: Bool = true) throws -> Bundle {
        let manifest = root.appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: manifest) else { throw ManifestError(description: "\(manifest.path): not found") }
        struct Head: Decodable { let schema: String?; let version: Int? }
        let head = try JSONDecoder().decode(Head.self, from: data)
        guard head.schema == "ygan-mobile/manifest" else { throw ManifestError(description: "\(manifest.path): schema '\(head.schema ?? "none")' is not 'ygan-mobile/manifest'") }
        guard head.version == 1 else { throw ManifestError(description: "\(manifest.path): version \(head.version ?? -1) is not one this app knows ([1])") }
        let doc = try JSONDecoder().decode(ManifestDoc.self, from: data)
        for artifact in doc.artifacts { try check(root: root, rel: artifact.path, sha256: artifact.sha256) }
        for entry in doc.golden where requireGoldens || FileManager.default.fileExists(atPath: root.appendingPathComponent(entry.path).path) {
            try check(root: root, rel: entry.path, sha256: entry.sha256)
        }
        return Bundle(root: root, themes: doc.themes, pipeline: doc.pipeline, artifacts: doc.artifacts, golden: doc.golden)
    }

    public func patchModel(theme: String, format: String, precision: String) throws -> Artifact {
        guard let a = artifacts.first(where: { $0.role == "patch_model" && $0.theme == theme && $0.format == format && $0.precision == precision })
        else { throw ManifestError(description: "no \(format) \(precision) patch model for theme '\(theme)'") }
        return a
    }

    static func check(root: URL, rel: String, sha256: String) throws {
        if rel.hasPrefix("/") || rel.contains("\\") || rel.split(separator: "/").contains("..") {
            throw ManifestError(description: "path '\(rel)' leaves the bundle: paths must be relative and stay inside it")
        }
        let url = root.appendingPathComponent(rel)
        guard url.resolvingSymlinksInPath().path.hasPrefix(root.resolvingSymlinksInPath().path) else {
            throw ManifestError(description: "path '\(rel)' resolves outside the bundle (a symlink?)")
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw ManifestError(description: "\(rel): listed in manifest.json but missing from the bundle")
        }
        let actual = isDir.boolValue ? try Hashing.tree(url) : try Hashing.file(url)
        guard actual == sha256 else { throw ManifestError(description: "\(rel): sha256 does not match the manifest's: the file changed after conversion") }
    }
}

/// sha256 of files, and of directory artifacts by docs/bundle.md's rule.
public enum Hashing {
    public static func file(_ url: URL) throws -> String { hex(SHA256.hash(data: try Data(contentsOf: url))) }

    public static func tree(_ dir: URL) throws -> String {
        let base = dir.resolvingSymlinksInPath().path
        var entries: [(String, URL)] = []
        if let walker = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
                let rel = String(url.resolvingSymlinksInPath().path.dropFirst(base.count + 1))
                entries.append((rel, url))
            }
        }
        entries.sort { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        let text = try entries.map { "\(try file($0.1))  \($0.0)\n" }.joined()
        return hex(SHA256.hash(data: Data(text.utf8)))
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 { digest.map { String(format: "%02x", $0) }.joined() }
}
