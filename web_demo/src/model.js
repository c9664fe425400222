/**
 * One ONNX patch-model artifact as the pipeline's `model(feed)`: a fixed batch of NCHW float32
 * patches in, the same layout out, through onnxruntime-web. The shapes and names come from the
 * manifest, never from guessing, like every other runner of the bundle.
 */
export async function openModel(ort, bytes, artifact, executionProvider) {
  const session = await ort.InferenceSession.create(new Uint8Array(bytes), {
    executionProviders: [executionProvider],
    graphOptimizationLevel: "all",
  });
  const input = artifact.inputs[0], output = artifact.outputs[0];
  const expected = input.shape.reduce((a, b) => a * b, 1);
  const stats = { ms: 0 };  // time inside onnxruntime, so the fps line can say what the pipeline costs
  const run = async (feed) => {
    if (feed.length !== expected) throw new Error(`${artifact.id}: fed ${feed.length} values, it takes ${input.shape}`);
    const began = performance.now();
    const result = await session.run({ [input.name]: new ort.Tensor("float32", feed, input.shape) });
    stats.ms += performance.now() - began;
    return result[output.name].data;
  };
  return { run, stats, release: () => session.release() };
}
