#if canImport(CoreML)
import CoreML
import Foundation
import PipelineCore

/// One Core ML patch-model artifact (NCHW float32 I/O, docs/bundle.md) behind PipelineCore's PatchModel.
public final class CoreMLPatchModel: PatchModel {
    private let model: MLModel
    private let input: TensorSpec
    private let output: TensorSpec

    public init(bundle: Bundle, artifact: Artifact, computeUnits: MLComputeUnits = .all) throws {
        let config = MLModelConfiguration()
        config.computeUnits = computeUnits
        let compiled = try MLModel.compileModel(at: bundle.root.appendingPathComponent(artifact.path))
        model = try MLModel(contentsOf: compiled, configuration: config)
        input = artifact.inputs[0]
        output = artifact.outputs[0]
    }

    public func run(_ batch: [Float]) throws -> [Float] {
        let array = try MLMultiArray(shape: input.shape.map { NSNumber(value: $0) }, dataType: .float32)
        let dst = array.dataPointer.bindMemory(to: Float.self, capacity: batch.count)
        for i in 0..<batch.count { dst[i] = batch[i] }
        let result = try model.prediction(from: MLDictionaryFeatureProvider(dictionary: [input.name: array]))
        guard let out = result.featureValue(for: output.name)?.multiArrayValue else {
            throw ManifestError(description: "Core ML returned no '\(output.name)'")
        }
        let src = out.dataPointer.bindMemory(to: Float.self, capacity: out.count)
        return (0..<out.count).map { src[$0] }
    }
}
#endif
