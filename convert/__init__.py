"""From a trained PyTorch checkpoint to a mobile bundle: ONNX, TFLite, Core ML, goldens, manifest.

Entry points: `convert.command` (the `ygan convert` verb) and `convert.bundle.convert` (the library call).
"""
