"""One I/O contract for every .tflite artifact, whatever its precision.

Why rewrite the file: onnx2tf's float files name their tensors `x` / `Identity` and carry no
signature, while its full-integer file says `serving_default_x:0` / `PartitionedCall:0` and has
one, so an app written against one precision breaks on another. After conversion every TFLite
artifact gets the ONNX names (`x` → `y`, `x` → `z`, `z` → `y`) on its graph's input and output
tensors and exactly one signature, `serving_default`, mapping those same names to them. The
manifest records the signature key; runtimes look tensors up through it (docs/bundle.md).
Only names and the signature table change; the graph and its weights are re-packed untouched.
"""

from __future__ import annotations

from pathlib import Path

import flatbuffers

SIGNATURE = "serving_default"


def set_contract(path: Path, input_name: str, output_name: str) -> None:
    """Name the single input and output tensors and write the one `serving_default` signature, in place."""
    from ai_edge_litert import schema_py_generated as schema

    from convert.model_card import TFLITE_IDENTIFIER
    from ygan_mobile.atomic import write_bytes

    model = schema.ModelT.InitFromPackedBuf(bytearray(Path(path).read_bytes()), 0)
    graph = model.subgraphs[0]
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise ValueError(f"{path}: expected one input and one output, found {len(graph.inputs)} and {len(graph.outputs)}")
    signature = schema.SignatureDefT()
    signature.signatureKey, signature.subgraphIndex = SIGNATURE, 0
    signature.inputs, signature.outputs = [], []
    for names, indices, name in ((signature.inputs, graph.inputs, input_name), (signature.outputs, graph.outputs, output_name)):
        graph.tensors[indices[0]].name = name
        entry = schema.TensorMapT()
        entry.name, entry.tensorIndex = name, int(indices[0])
        names.append(entry)
    model.signatureDefs = [signature]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    write_bytes(Path(path), bytes(builder.Output()))
