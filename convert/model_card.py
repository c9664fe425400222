"""What each artifact says about itself: author, licence, description, version, I/O and pipeline.

Why in the files and not only in manifest.json: an app developer drops one model into Xcode or
Android Studio, which show the model's own metadata (Core ML's description, TFLite's metadata
block), and a Netron or onnxruntime user sees ONNX's producer and metadata_props. Each format gets
the same card:
- Core ML: author, license, short description, version, input/output descriptions, and the
  pipeline parameters as user-defined metadata (set before the package is saved, coreml.py);
- ONNX: producer name/version, doc_string, the card's fields in metadata_props, I/O doc strings;
- TFLite: the standard "TFLITE_METADATA" block (tflite-support's ModelMetadata schema, file
  identifier M001: name, description, version, author, license, per-tensor name and description),
  which Android Studio shows, plus a "ygan_mobile" block holding the user-defined fields as JSON
  (ModelMetadata has no key-value map). Written with the `flatbuffers` package and LiteRT's
  generated TFLite schema: tflite-support's metadata writer needs protobuf < 4 and does not install
  beside the pinned set (docs/bundle.md). The model is re-packed the way that writer does it;
  tests check the interpreter's outputs are unchanged bit for bit.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import flatbuffers

from convert.manifest import NORMALISATION, ROUNDING
from ygan_mobile import __version__

TFLITE_METADATA = "TFLITE_METADATA"  # the name Android Studio and the TFLite Support library look for
YGAN_METADATA = "ygan_mobile"
METADATA_IDENTIFIER = b"M001"
TFLITE_IDENTIFIER = b"TFL3"
METADATA_PARSER_VERSION = "1.0.0"  # only fields of schema 1.0.0 are written
DEFAULT_AUTHOR = "ygan-mobile"
DEFAULT_LICENSE = ("not set: the weights are yours, trained on the data you chose; the embedded training data's "
                   "licences are listed in ygan-mobile's docs/data.md")


@dataclass(frozen=True)
class ModelCard:
    name: str
    author: str
    license: str
    description: str
    version: str
    inputs: dict[str, str]  # tensor name → description, in the model's input order
    outputs: dict[str, str]
    user_defined: dict[str, str]


def pipeline_params(patch: int, stride: int, blend: str, batch: int) -> dict:
    """The pipeline section of the manifest (DESIGN §4's parameters), shared with the model cards."""
    return {"spec": 1, "patch": patch, "stride": stride, "blend": blend, "pad": "edge",
            "normalisation": NORMALISATION, "rounding": ROUNDING, "batch": batch}


_PATCHES = "{b} RGB patches of {p}×{p}, float32 in [-1, 1] ({layout})"
_INTEGER = "; int8 in the file: real = (q − zero_point)·scale with the tensor's own quantisation"


def card(*, role: str, theme: str | None, key: str, fmt: str, precision: str, layout: str, batch: int, latent: int,
         input_name: str, output_name: str, integer_io: bool, pipeline: dict, source: dict,
         author: str = DEFAULT_AUTHOR, license: str = DEFAULT_LICENSE) -> ModelCard:
    """The card of one artifact; `pipeline` is `pipeline_params(...)`, `source` the manifest's source."""
    p = pipeline["patch"]
    patches = _PATCHES.format(b=batch, p=p, layout=layout) + (_INTEGER if integer_io else "")
    latents = f"{batch} latent codes of {latent} values, float32" + (_INTEGER if integer_io else "")
    image_in = patches + f"; from pixels: {pipeline['normalisation']}"
    image_out = patches + f"; to pixels: {pipeline['rounding']}"
    if role == "encoder":
        what = f"yGAN encoder E: a {p}×{p} RGB patch to its latent code, shared by every theme"
        inputs, outputs = {input_name: image_in}, {output_name: latents}
    elif role == "generator":
        what = f"yGAN generator G of theme '{theme}': a latent code to a {p}×{p} RGB patch in the theme's style"
        inputs, outputs = {input_name: latents}, {output_name: image_out}
    else:
        what = (f"yGAN patch model G(E(x)) of theme '{theme}': a {p}×{p} RGB patch re-drawn in the theme's style; "
                f"run it on every patch of a frame with the patch-render pipeline (spec v{pipeline['spec']}, "
                "parameters in this model's metadata)")
    if role == "patch_model":
        inputs, outputs = {input_name: image_in}, {output_name: image_out}
    version = f"{__version__}+{source['checkpoint_sha256'][:12]}"
    user = {"ygan.role": role, "ygan.theme": theme or "", "ygan.format": fmt, "ygan.precision": precision,
            "ygan.layout": layout, "ygan.batch": str(batch), "ygan.source.kind": source["kind"],
            "ygan.source.checkpoint_sha256": source["checkpoint_sha256"], "ygan.tool_version": __version__,
            **{f"ygan.pipeline.{k}": str(v) for k, v in pipeline.items()}}
    return ModelCard(name=f"ygan-mobile {key} ({fmt} {precision})", author=author, license=license,
                     description=f"{what} ({precision}, fixed batch {batch}).", version=version,
                     inputs=inputs, outputs=outputs, user_defined=user)


# -- ONNX --------------------------------------------------------------------------------------------

def stamp_onnx(path: Path, info: ModelCard) -> None:
    """Producer, doc string, metadata_props and I/O doc strings, written back in place (atomically)."""
    import onnx

    from ygan_mobile.atomic import write_bytes

    model = onnx.load(str(path))
    exported_by = f"{model.producer_name} {model.producer_version}".strip()
    model.producer_name, model.producer_version = "ygan-mobile", __version__
    model.doc_string = info.description
    props = {"name": info.name, "author": info.author, "license": info.license, "description": info.description,
             "version": info.version, **({"exported_by": exported_by} if exported_by else {}), **info.user_defined}
    del model.metadata_props[:]
    for key, value in props.items():
        model.metadata_props.add(key=key, value=value)
    for values, described in ((model.graph.input, info.inputs), (model.graph.output, info.outputs)):
        for value, text in zip(values, described.values()):
            value.doc_string = text
    write_bytes(path, model.SerializeToString())


# -- Core ML -----------------------------------------------------------------------------------------

def stamp_coreml(mlmodel, info: ModelCard) -> None:
    """Onto a coremltools MLModel before it is saved: what Xcode's model page shows."""
    mlmodel.author, mlmodel.license = info.author, info.license
    mlmodel.short_description, mlmodel.version = info.description, info.version
    for name, text in info.inputs.items():
        mlmodel.input_description[name] = text
    for name, text in info.outputs.items():
        mlmodel.output_description[name] = text
    for key, value in {"name": info.name, **info.user_defined}.items():
        mlmodel.user_defined_metadata[key] = value


# -- TFLite ------------------------------------------------------------------------------------------
# tflite-support's metadata_schema.fbs, the fields written (slot numbers in the tables):
#   ModelMetadata: 0 name, 1 description, 2 version, 3 subgraph_metadata, 4 author, 5 license, 7 min_parser_version
#   SubGraphMetadata: 0 name, 1 description, 2 input_tensor_metadata, 3 output_tensor_metadata
#   TensorMetadata: 0 name, 1 description

def _table(builder: flatbuffers.Builder, fields: dict[int, int]) -> int:
    """A table of offset fields (strings, vectors, tables): {slot: offset}."""
    builder.StartObject(max(fields) + 1)
    for slot, offset in fields.items():
        builder.PrependUOffsetTRelativeSlot(slot, offset, 0)
    return builder.EndObject()


def _vector(builder: flatbuffers.Builder, offsets: list[int]) -> int:
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def metadata_flatbuffer(info: ModelCard) -> bytes:
    """The TFLITE_METADATA block: a ModelMetadata flatbuffer with file identifier M001."""
    b = flatbuffers.Builder(1024)
    s = b.CreateString

    def tensors(described: dict[str, str]) -> int:
        return _vector(b, [_table(b, {0: s(name), 1: s(text)}) for name, text in described.items()])

    inputs, outputs = tensors(info.inputs), tensors(info.outputs)
    subgraph = _table(b, {0: s(info.name), 1: s(info.description), 2: inputs, 3: outputs})
    root = _table(b, {0: s(info.name), 1: s(info.description), 2: s(info.version), 3: _vector(b, [subgraph]),
                      4: s(info.author), 5: s(info.license), 7: s(METADATA_PARSER_VERSION)})
    b.Finish(root, file_identifier=METADATA_IDENTIFIER)
    return bytes(b.Output())


def stamp_tflite(path: Path, info: ModelCard) -> None:
    """Add (or replace) the two metadata blocks and write the model back in place (atomically)."""
    from ai_edge_litert import schema_py_generated as schema

    from ygan_mobile.atomic import write_bytes

    model = schema.ModelT.InitFromPackedBuf(bytearray(path.read_bytes()), 0)
    info = _with_file_names(info, model)
    model.metadata = [m for m in model.metadata or [] if m.name not in (TFLITE_METADATA, YGAN_METADATA)]
    card_json = {"name": info.name, "author": info.author, "license": info.license, "description": info.description,
                 "version": info.version, "inputs": info.inputs, "outputs": info.outputs, **info.user_defined}
    for name, data in ((TFLITE_METADATA, metadata_flatbuffer(info)),
                       (YGAN_METADATA, json.dumps(card_json, ensure_ascii=False).encode())):
        buffer = schema.BufferT()
        buffer.data = list(data)
        model.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name, entry.buffer = name, len(model.buffers) - 1
        model.metadata.append(entry)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    write_bytes(path, bytes(builder.Output()))


def _with_file_names(info: ModelCard, model) -> ModelCard:
    """The card's tensor descriptions under the file's own tensor names (onnx2tf may rename an
    output, e.g. to 'Identity'), matched by position as TFLite metadata is."""
    graph = model.subgraphs[0]

    def names(indices) -> list[str]:
        return [n.decode() if isinstance(n, bytes) else n for n in (graph.tensors[i].name for i in indices)]

    return dataclasses.replace(info, inputs=dict(zip(names(graph.inputs), info.inputs.values())),
                               outputs=dict(zip(names(graph.outputs), info.outputs.values())))


def read_tflite_card(path: Path) -> dict:
    """The metadata blocks of a .tflite as a dict: the ModelMetadata fields written above and the
    ygan_mobile JSON. A reader for tests and for `docs/bundle.md`'s example; apps use their own."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(Path(path).read_bytes()), 0)
    blocks = {m.name.decode() if isinstance(m.name, bytes) else m.name: bytes(model.buffers[m.buffer].data)
              for m in model.metadata or []}
    out: dict = {}
    if TFLITE_METADATA in blocks:
        out[TFLITE_METADATA] = _read_model_metadata(blocks[TFLITE_METADATA])
    if YGAN_METADATA in blocks:
        out[YGAN_METADATA] = json.loads(blocks[YGAN_METADATA])
    return out


def _read_model_metadata(buf: bytes) -> dict:
    from flatbuffers.table import Table
    from flatbuffers.util import GetBufferIdentifier

    if GetBufferIdentifier(buf, 0) != METADATA_IDENTIFIER:
        raise ValueError("TFLITE_METADATA is not a ModelMetadata flatbuffer (identifier M001)")
    root = Table(buf, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))

    def string(t: Table, slot: int) -> str | None:
        o = t.Offset(4 + 2 * slot)
        return t.String(o + t.Pos).decode() if o else None

    def tables(t: Table, slot: int) -> list[Table]:
        o = t.Offset(4 + 2 * slot)
        if not o:
            return []
        start = t.Vector(o)
        return [Table(t.Bytes, t.Indirect(start + 4 * i)) for i in range(t.VectorLen(o))]

    fields = {"name": 0, "description": 1, "version": 2, "author": 4, "license": 5, "min_parser_version": 7}
    out = {k: string(root, slot) for k, slot in fields.items()}
    subgraph = tables(root, 3)[0]
    for key, slot in (("inputs", 2), ("outputs", 3)):
        out[key] = {string(t, 0): string(t, 1) for t in tables(subgraph, slot)}
    return out
