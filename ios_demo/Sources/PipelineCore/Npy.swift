import Foundation

/// One array of a golden .npz: little-endian float32, int32 (spec v2's cell layouts) or uint8, C order.
public struct NdArray {
    public let shape: [Int]
    public let floats: [Float]?
    public let bytes: [UInt8]?
    public var ints: [Int]? = nil
}

/// Golden files are uncompressed (stored) zips of .npy files; this reads the stored entries and the three dtypes used.
public enum Npy {
    public static func readNpz(_ url: URL) throws -> [String: NdArray] {
        let data = try Data(contentsOf: url)
        var out: [String: NdArray] = [:]
        var offset = 0
        func u16(_ at: Int) -> Int { Int(data[at]) | Int(data[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        while offset + 30 <= data.count, u32(offset) == 0x04034b50 {
            let method = u16(offset + 8)
            var size = u32(offset + 18)
            let nameLen = u16(offset + 26), extraLen = u16(offset + 28)
            let name = String(decoding: data[(offset + 30)..<(offset + 30 + nameLen)], as: UTF8.self)
            let start = offset + 30 + nameLen + extraLen
            if size == 0xFFFFFFFF, extraLen >= 20 { size = u32(offset + 30 + nameLen + 4 + 8) } // zip64 compressed size
            guard method == 0 else { throw ManifestError(description: "\(url.lastPathComponent): \(name) is compressed; golden files are stored") }
            if name.hasSuffix(".npy") { out[String(name.dropLast(4))] = try parse(data.subdata(in: start..<(start + size)), name) }
            offset = start + size
        }
        return out
    }

    static func parse(_ d: Data, _ what: String) throws -> NdArray {
        let bytes = [UInt8](d)
        guard bytes.count > 10, bytes[0] == 0x93 else { throw ManifestError(description: "\(what): not a .npy array") }
        let major = Int(bytes[6])
        let headerLen = major == 1 ? Int(bytes[8]) | Int(bytes[9]) << 8 : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        let start = major == 1 ? 10 : 12
        let header = String(decoding: bytes[start..<(start + headerLen)], as: UTF8.self)
        let shapeText = header.components(separatedBy: "'shape': (")[1].components(separatedBy: ")")[0]
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let n = shape.reduce(1, *), body = start + headerLen
        if header.contains("'<f4'") {
            let floats = (0..<n).map { i -> Float in
                let o = body + i * 4
                return Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
            }
            return NdArray(shape: shape, floats: floats, bytes: nil)
        }
        if header.contains("'<i4'") {
            let ints = (0..<n).map { i -> Int in
                let o = body + i * 4
                return Int(Int32(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24))
            }
            return NdArray(shape: shape, floats: nil, bytes: nil, ints: ints)
        }
        if header.contains("'|u1'") { return NdArray(shape: shape, floats: nil, bytes: Array(bytes[body..<(body + n)])) }
        throw ManifestError(description: "\(what): dtype is not float32, int32 or uint8 (\(header))")
    }
}
