// swift-tools-version:5.9
// The iOS demo's tested core. `swift test` on a Mac runs the golden-vector tests:
//   YGAN_BUNDLE=/path/to/bundle swift test
import PackageDescription

let package = Package(
    name: "YganDemo",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "PipelineCore", targets: ["PipelineCore"]),
        .library(name: "CoreMLRunner", targets: ["CoreMLRunner"]),
    ],
    targets: [
        .target(name: "PipelineCore"),
        .target(name: "CoreMLRunner", dependencies: ["PipelineCore"]),
        .testTarget(name: "PipelineCoreTests", dependencies: ["PipelineCore"]),
    ]
)
