"""The shipped BERT weights written as an ONNX graph, without PyTorch.

The default embedder (``minilm-onnx-int8``) runs on ONNX Runtime; its graph used to be
traced from the weights by ``torch.onnx.export``, which made PyTorch (~1 GB installed) a
requirement of the default install for one step at first use. This module writes the same
graph from the ``model.safetensors`` file with ``onnx.helper``: the embeddings (word +
position + token type, then LayerNorm), then per layer self-attention with the padding mask
added to the scores (``(1 - mask) * float32 min``, as transformers' eager attention does)
and a GELU (erf) feed-forward block, each followed by a residual LayerNorm. The output is
the token states (``last_hidden_state``); pooling stays in the embedder.

Linear layers are ``MatMul`` by the transposed weight (an initializer) plus ``Add`` of the
bias, as the traced graph had them, so ``quantize_dynamic`` quantises the same weights.
Agreement with the PyTorch reference is tested in tests/test_semantic.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


def _weights(model_dir: Path) -> dict[str, npt.NDArray[Any]]:
    from safetensors.numpy import load_file

    return dict(load_file(str(model_dir / "model.safetensors")))


def build(model_dir: Path, target: Path) -> Path:
    """Write the float32 graph of the BERT model in `model_dir` (config.json and
    model.safetensors) to `target`."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
        raise ValueError(f"{model_dir}: not a BERT model with GELU ({config.get('model_type')})")
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    head_size = hidden // heads
    eps = float(config["layer_norm_eps"])
    weights = _weights(model_dir)
    initializers: list[Any] = []
    nodes: list[Any] = []
    counter = iter(range(1_000_000))

    def constant(name: str, value: npt.NDArray[Any]) -> str:
        initializers.append(numpy_helper.from_array(value, name))
        return name

    def weight(name: str, transpose: bool = False) -> str:
        array = weights[name].astype(np.float32)
        return constant(name, np.ascontiguousarray(array.T if transpose else array))

    def node(op: str, inputs: list[str], **attrs: Any) -> str:
        out = f"{op.lower()}_{next(counter)}"
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def linear(x: str, prefix: str) -> str:
        product = node("MatMul", [x, weight(f"{prefix}.weight", transpose=True)])
        return node("Add", [product, weight(f"{prefix}.bias")])

    def layer_norm(x: str, prefix: str) -> str:
        scale, bias = weight(f"{prefix}.weight"), weight(f"{prefix}.bias")
        return node("LayerNormalization", [x, scale, bias], axis=-1, epsilon=eps)

    # Embeddings: positions 0..tokens-1, taken from the shape of input_ids.
    shape = node("Shape", ["input_ids"])
    tokens = node("Gather", [shape, constant("one_index", np.array(1, dtype=np.int64))], axis=0)
    zero = constant("zero", np.array(0, dtype=np.int64))
    step = constant("step", np.array(1, dtype=np.int64))
    positions = node("Range", [zero, tokens, step])
    embedded = node(
        "Add",
        [
            node(
                "Add",
                [
                    node("Gather", [weight("embeddings.word_embeddings.weight"), "input_ids"]),
                    node(
                        "Gather",
                        [weight("embeddings.token_type_embeddings.weight"), "token_type_ids"],
                    ),
                ],
            ),
            node("Gather", [weight("embeddings.position_embeddings.weight"), positions]),
        ],
    )
    x = layer_norm(embedded, "embeddings.LayerNorm")

    # The additive mask: 0 where a token is real, float32's minimum where it is padding,
    # shaped (batch, 1, 1, tokens) to broadcast over heads and query positions.
    mask = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    inverted = node("Sub", [constant("one_float", np.array(1.0, dtype=np.float32)), mask])
    additive = node(
        "Mul", [inverted, constant("float_min", np.array(np.finfo(np.float32).min, np.float32))]
    )
    additive = node("Unsqueeze", [additive, constant("mask_axes", np.array([1, 2], np.int64))])
    split_heads = constant("split_heads", np.array([0, 0, heads, head_size], dtype=np.int64))
    merge_heads = constant("merge_heads", np.array([0, 0, hidden], dtype=np.int64))
    scale = constant("scale", np.array(1.0 / np.sqrt(head_size), dtype=np.float32))
    root_half = constant("root_half", np.array(1.0 / np.sqrt(2.0), dtype=np.float32))
    half = constant("half", np.array(0.5, dtype=np.float32))
    one = "one_float"

    def heads_of(projection: str) -> str:
        shaped = node("Reshape", [projection, split_heads])
        return node("Transpose", [shaped], perm=[0, 2, 1, 3])

    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"

        query = heads_of(linear(x, f"{p}.attention.self.query"))
        key = heads_of(linear(x, f"{p}.attention.self.key"))
        value = heads_of(linear(x, f"{p}.attention.self.value"))
        scores = node("MatMul", [query, node("Transpose", [key], perm=[0, 1, 3, 2])])
        scores = node("Add", [node("Mul", [scores, scale]), additive])
        context = node("MatMul", [node("Softmax", [scores], axis=-1), value])
        context = node("Transpose", [context], perm=[0, 2, 1, 3])
        context = node("Reshape", [context, merge_heads])
        attended = linear(context, f"{p}.attention.output.dense")
        x = layer_norm(node("Add", [attended, x]), f"{p}.attention.output.LayerNorm")
        inner = linear(x, f"{p}.intermediate.dense")
        gelu = node(
            "Mul",
            [
                node("Mul", [inner, half]),
                node("Add", [node("Erf", [node("Mul", [inner, root_half])]), one]),
            ],
        )
        out = linear(gelu, f"{p}.output.dense")
        x = layer_norm(node("Add", [out, x]), f"{p}.output.LayerNorm")

    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    dims = ["batch", "tokens"]
    graph = helper.make_graph(
        nodes,
        "bert",
        [helper.make_tensor_value_info(name, TensorProto.INT64, dims) for name in INPUTS],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [*dims, hidden])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target))
    return target
