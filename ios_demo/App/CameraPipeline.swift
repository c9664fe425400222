import AVFoundation
import CoreGraphics
import CoreML
import CoreMLRunner
import Foundation
import PipelineCore

/// AVFoundation camera → upright → PipelineCore → Core ML → CGImage. Only plumbing: every number is
/// computed in PipelineCore, which is tested against the bundle's golden vectors. Nothing fails
/// silently: a bundle that will not load, a model that will not compile or run, or a camera that is
/// missing or refused is shown in `problem` and nothing runs on it.
final class CameraPipeline: NSObject, ObservableObject, AVCaptureVideoDataOutputSampleBufferDelegate {
    @Published var output: CGImage?
    @Published var fps: Double = 0
    @Published var problem: String?
    @Published var theme: String = "" { didSet { load() } }
    @Published var cells = 0  // spec v2: cells in the last frame (0 with the grid)
    /// Grid: spec v1, every element at P. Multiscale: spec v2, small cells where the scene has detail, large ones where it is flat.
    @Published var sampling: Sampling = .grid {
        didSet {
            let chosen = sampling
            queue.async { [self] in rendering = chosen; stream = MultiscaleState() }
        }
    }
    let themes: [String]

    enum Sampling: String, CaseIterable { case grid = "grid (v1)", multiscale = "multiscale (v2)" }

    private let bundle: PipelineCore.Bundle?
    private let session = AVCaptureSession()
    private let queue = DispatchQueue(label: "ygan.pipeline")
    private var model: CoreMLPatchModel?
    private var settings: Settings?
    private var multiscale: MultiscaleSettings?  // spec v2 at the settings the bundle's manifest records
    private var rendering: Sampling = .grid  // `sampling` as the capture queue sees it
    private var stream = MultiscaleState()  // the camera's v2 layout from frame to frame (hysteresis); capture queue only
    private var rotation: AnyObject?  // AVCaptureDevice.RotationCoordinator on iOS 17+
    private var last = CFAbsoluteTimeGetCurrent()

    override init() {
        var loaded: PipelineCore.Bundle?
        var problem: String?
        if let url = Foundation.Bundle.main.url(forResource: "bundle", withExtension: nil) {
            do {
                loaded = try PipelineCore.Bundle.read(url, requireGoldens: false)  // the app target ships without golden/
            } catch {
                problem = "bundle refused: \(error)"
            }
        } else {
            problem = "no 'bundle' folder in the app: add the bundle's manifest.json and coreml/ as a folder reference (docs/apps.md)"
        }
        bundle = loaded
        themes = loaded?.themes ?? []
        super.init()
        self.problem = problem
        theme = themes.first ?? ""
        load()  // an initializer's own assignment does not run didSet: load the first theme's model here
    }

    private func show(_ message: String) {
        DispatchQueue.main.async { self.problem = message }
    }

    private func load() {
        guard let bundle else { return }
        queue.async { [self] in
            do {
                let artifact = try bundle.patchModel(theme: theme, format: "coreml", precision: "int8-weights")
                model = try CoreMLPatchModel(bundle: bundle, artifact: artifact)
                // stride = patch: no overlap, the real-time setting
                settings = Settings(patch: bundle.pipeline.patch, stride: bundle.pipeline.patch,
                                    blend: Blend(rawValue: bundle.pipeline.blend) ?? .feather, batch: artifact.batch, layout: .NCHW)
                multiscale = try MultiscaleSettings.from(patch: bundle.pipeline.patch, bundle.golden.first { $0.kind == "multiscale" })
                stream = MultiscaleState()
            } catch {
                model = nil
                show("cannot load the \(theme) model: \(error)")
            }
        }
    }

    func start() {
        guard bundle != nil else { return }
        guard let device = AVCaptureDevice.default(for: .video) else { return show("no camera on this device") }
        let input: AVCaptureDeviceInput
        do {
            input = try AVCaptureDeviceInput(device: device)
        } catch {
            return show("camera unavailable: \(error.localizedDescription) (allowed in Settings › Privacy › Camera?)")
        }
        if #available(iOS 17.0, macOS 14.0, *) {
            rotation = AVCaptureDevice.RotationCoordinator(device: device, previewLayer: nil)
        }
        session.sessionPreset = .vga640x480
        session.addInput(input)
        let out = AVCaptureVideoDataOutput()
        out.videoSettings = [kCVPixelBufferPixelFormatTypeKey as String: kCVPixelFormatType_32BGRA]
        out.alwaysDiscardsLateVideoFrames = true
        out.setSampleBufferDelegate(self, queue: queue)
        session.addOutput(out)
        DispatchQueue.global().async { self.session.startRunning() }
    }

    /// Degrees clockwise that make the sensor's buffer level: the rotation coordinator's answer on
    /// iOS 17+, else 90 — the back camera's sensor lies landscape and this app is portrait.
    private var rotationDegrees: Int {
        if #available(iOS 17.0, macOS 14.0, *), let coordinator = rotation as? AVCaptureDevice.RotationCoordinator {
            return Int(coordinator.videoRotationAngleForHorizonLevelCapture.rounded())
        }
        return 90
    }

    func captureOutput(_ output: AVCaptureOutput, didOutput sample: CMSampleBuffer, from connection: AVCaptureConnection) {
        guard let model, let settings, let pixels = CMSampleBufferGetImageBuffer(sample) else { return }
        CVPixelBufferLockBaseAddress(pixels, .readOnly)
        let w = CVPixelBufferGetWidth(pixels), h = CVPixelBufferGetHeight(pixels), stride = CVPixelBufferGetBytesPerRow(pixels)
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        if let base = CVPixelBufferGetBaseAddress(pixels)?.assumingMemoryBound(to: UInt8.self) {
            for y in 0..<h { for x in 0..<w { for c in 0..<3 { rgb[(y * w + x) * 3 + c] = base[y * stride + x * 4 + (2 - c)] } } }
        }
        CVPixelBufferUnlockBaseAddress(pixels, .readOnly)
        let out: [UInt8]
        let frame: Frame
        var count = 0
        do {
            frame = try Rotation.upright(Frame(height: h, width: w, rgb: rgb), degrees: rotationDegrees)
            if rendering == .multiscale, let multiscale {
                let v2 = try Multiscale.render(frame, models: [model], settings: multiscale, batch: settings.batch, layout: settings.layout, state: stream)
                out = v2.rgb
                count = v2.cells.count / 4
            } else {
                out = try Render.renderU8(frame, models: [model], settings: settings)
            }
        } catch {
            self.model = nil  // stop feeding a model that fails; the message says why
            return show("rendering failed: \(error)")
        }
        guard let provider = CGDataProvider(data: Data(out) as CFData),
              let image = CGImage(width: frame.width, height: frame.height, bitsPerComponent: 8, bitsPerPixel: 24,
                                  bytesPerRow: frame.width * 3, space: CGColorSpaceCreateDeviceRGB(),
                                  bitmapInfo: CGBitmapInfo(rawValue: 0), provider: provider, decode: nil,
                                  shouldInterpolate: false, intent: .defaultIntent)
        else { return show("could not make an image of \(frame.width)x\(frame.height)") }
        let now = CFAbsoluteTimeGetCurrent()
        let rate = 1 / (now - last)
        last = now
        let shownCells = count
        DispatchQueue.main.async { self.output = image; self.fps = rate; self.cells = shownCells }
    }
}
