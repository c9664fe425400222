// swift-tools-version:5.9
// The iOS demo's tested core. `swift test` runs the golden-vector tests on a Mac and on Linux:
//   YGAN_BUNDLE=/path/to/bundle swift test
// sha256 comes from CryptoKit on Apple platforms and from swift-crypto (the same API) on Linux;
// CoreMLRunner compiles to nothing where Core ML does not exist.
import PackageDescription

let package = Package(
    name: "YganDemo",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "PipelineCore", targets: ["PipelineCore"]),
        .library(name: "CoreMLRunner", targets: ["CoreMLRunner"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"4.0.0"),
    ],
    targets: [
        .target(name: "PipelineCore", dependencies: [
            .product(name: "Crypto", package: "swift-crypto", condition: .when(platforms: [.linux])),
        ]),
        .target(name: "CoreMLRunner", dependencies: ["PipelineCore"]),
        .testTarget(name: "PipelineCoreTests", dependencies: ["PipelineCore"]),
    ]
)
