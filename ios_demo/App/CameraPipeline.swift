import AVFoundation
import CoreGraphics
import CoreML
import CoreMLRunner
import Foundation
import PipelineCore

/// AVFoundation camera → PipelineCore → Core ML → CGImage. Only plumbing: every number is computed
/// in PipelineCore, which is tested against the bundle's golden vectors.
final class CameraPipeline: NSObject, ObservableObject, AVCaptureVideoDataOutputSampleBufferDelegate {
    @Published var output: CGImage?
    @Published var fps: Double = 0
    @Published var theme: String = "" { didSet { load() } }
    let themes: [String]

    private let bundle: PipelineCore.Bundle
    private let session = AVCaptureSession()
    private let queue = DispatchQueue(label: "ygan.pipeline")
    private var model: CoreMLPatchModel?
    private var settings: Settings?
    private var last = CFAbsoluteTimeGetCurrent()

    override init() {
        bundle = try! PipelineCore.Bundle.read(Foundation.Bundle.main.url(forResource: "bundle", withExtension: nil)!)
        themes = bundle.themes
        super.init()
        theme = themes.first ?? ""
    }

    private func load() {
        queue.async { [self] in
            guard let artifact = try? bundle.patchModel(theme: theme, format: "coreml", precision: "int8-weights") else { return }
            model = try? CoreMLPatchModel(bundle: bundle, artifact: artifact)
            // stride = patch: no overlap, the real-time setting
            settings = Settings(patch: bundle.pipeline.patch, stride: bundle.pipeline.patch,
                                blend: Blend(rawValue: bundle.pipeline.blend) ?? .feather, batch: artifact.batch, layout: .NCHW)
        }
    }

    func start() {
        guard let device = AVCaptureDevice.default(for: .video), let input = try? AVCaptureDeviceInput(device: device) else { return }
        session.sessionPreset = .vga640x480
        session.addInput(input)
        let out = AVCaptureVideoDataOutput()
        out.videoSettings = [kCVPixelBufferPixelFormatTypeKey as String: kCVPixelFormatType_32BGRA]
        out.alwaysDiscardsLateVideoFrames = true
        out.setSampleBufferDelegate(self, queue: queue)
        session.addOutput(out)
        DispatchQueue.global().async { self.session.startRunning() }
    }

    func captureOutput(_ output: AVCaptureOutput, didOutput sample: CMSampleBuffer, from connection: AVCaptureConnection) {
        guard let model, let settings, let pixels = CMSampleBufferGetImageBuffer(sample) else { return }
        CVPixelBufferLockBaseAddress(pixels, .readOnly)
        let w = CVPixelBufferGetWidth(pixels), h = CVPixelBufferGetHeight(pixels), stride = CVPixelBufferGetBytesPerRow(pixels)
        let base = CVPixelBufferGetBaseAddress(pixels)!.assumingMemoryBound(to: UInt8.self)
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { rgb[(y * w + x) * 3 + c] = base[y * stride + x * 4 + (2 - c)] } } }
        CVPixelBufferUnlockBaseAddress(pixels, .readOnly)
        guard let out = try? Render.renderU8(Frame(height: h, width: w, rgb: rgb), models: [model], settings: settings) else { return }
        let provider = CGDataProvider(data: Data(out) as CFData)!
        let image = CGImage(width: w, height: h, bitsPerComponent: 8, bitsPerPixel: 24, bytesPerRow: w * 3,
                            space: CGColorSpaceCreateDeviceRGB(), bitmapInfo: CGBitmapInfo(rawValue: 0),
                            provider: provider, decode: nil, shouldInterpolate: false, intent: .defaultIntent)
        let now = CFAbsoluteTimeGetCurrent()
        let rate = 1 / (now - last)
        last = now
        DispatchQueue.main.async { self.output = image; self.fps = rate }
    }
}
