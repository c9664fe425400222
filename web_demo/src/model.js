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
  const run = async (feed) => {
    if (feed.length !== expected) throw new Error(`${artifact.id}: fed ${feed.length} values, it takes ${input.shape}`);
    const result = await session.run({ [input.name]: new ort.Tensor("float32", feed, input.shape) });
    return result[output.name].data;
  };
  return { run, release: () => session.release() };
}
