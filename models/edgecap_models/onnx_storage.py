"""Smaller ONNX files: store big initializers as fp16 or per-row int8 and restore them in-graph.

`round_for_storage` first rounds the PyTorch weights to exactly what the file will hold, so the
PyTorch reference and the ONNX graph compute with identical numbers. `compress_initializers` then
rewrites each float32 initializer of the exported graph:
- a vocabulary table named in `int8_rows` becomes int8 values (V, D) plus float32 per-row scales
  (V, 1), restored by Cast(to float) and Mul, because a per-row scale keeps rare tokens' rows as
  precise as frequent ones;
- any other float32 initializer with at least `min_fp16_elements` elements becomes fp16 restored
  by Cast. Small tensors (biases, LayerNorm) stay float32.
The restoring nodes depend only on initializers, so ONNX Runtime folds them into float32
constants when the session is created: the file is small, the run-time arithmetic stays float32.
"""

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

MIN_FP16_ELEMENTS = 1024


def quantize_rows(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-row int8: returns (q int8 (V, D), scale float32 (V, 1)), weight ~ q * scale."""
    scale = weight.abs().amax(dim=1, keepdim=True) / 127.0
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))  # an all-zero row stays zero
    q = torch.round(weight / scale).clamp(-127, 127).to(torch.int8)
    return q, scale.float()


@torch.no_grad()
def round_for_storage(module: torch.nn.Module, int8_rows: tuple[torch.Tensor, ...] = ()) -> None:
    """Round `module`'s float parameters in place to their stored precision (see module doc)."""
    int8_ids = {id(t) for t in int8_rows}
    seen = set()
    for param in list(module.parameters()) + list(module.buffers()):
        if id(param) in seen or not param.is_floating_point():
            continue
        seen.add(id(param))
        if id(param) in int8_ids:
            q, scale = quantize_rows(param.data)
            param.copy_(q.float() * scale)
        elif param.numel() >= MIN_FP16_ELEMENTS:
            param.copy_(param.data.half().float())


def _find_initializer(graph, array: np.ndarray):
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT and tuple(init.dims) == array.shape:
            if np.array_equal(numpy_helper.to_array(init), array):
                return init
    return None


def compress_initializers(path: str, int8_rows: dict[str, np.ndarray] | None = None) -> dict:
    """Rewrite the initializers of the ONNX file at `path` in place; return a storage summary.

    int8_rows maps a label (e.g. "wte") to the float32 table as rounded by round_for_storage; the
    initializer holding exactly that table is found by value, since the exporter may rename it.
    """
    model = onnx.load(path)
    graph = model.graph
    summary = {"int8_rows": [], "fp16": 0, "float32": 0}
    new_nodes, replaced, added = [], set(), set()

    for label, table in (int8_rows or {}).items():
        init = _find_initializer(graph, table.astype(np.float32))
        if init is None:
            raise ValueError(f"no initializer of {path} equals the {label} table {table.shape}; was it rounded first?")
        q, scale = quantize_rows(torch.from_numpy(table))
        restored = (q.float() * scale).numpy()
        assert np.array_equal(restored, table), f"{label}: the table was not rounded to int8 rows before export"
        name = init.name
        graph.initializer.append(numpy_helper.from_array(q.numpy(), f"{name}.int8"))
        graph.initializer.append(numpy_helper.from_array(scale.numpy(), f"{name}.scale"))
        added.update({f"{name}.int8", f"{name}.scale"})
        new_nodes.append(helper.make_node("Cast", [f"{name}.int8"], [f"{name}.int8_as_float"], to=TensorProto.FLOAT))
        new_nodes.append(helper.make_node("Mul", [f"{name}.int8_as_float", f"{name}.scale"], [name]))
        replaced.add(name)
        summary["int8_rows"].append({"label": label, "initializer": name, "shape": list(table.shape)})

    for init in list(graph.initializer):
        if init.name in replaced or init.name in added or init.data_type != TensorProto.FLOAT:
            continue
        array = numpy_helper.to_array(init)
        if array.size < MIN_FP16_ELEMENTS:
            summary["float32"] += 1
            continue
        half = array.astype(np.float16)
        assert np.array_equal(half.astype(np.float32), array), f"{init.name} was not rounded to fp16 before export"
        graph.initializer.append(numpy_helper.from_array(half, f"{init.name}.fp16"))
        new_nodes.append(helper.make_node("Cast", [f"{init.name}.fp16"], [init.name], to=TensorProto.FLOAT))
        replaced.add(init.name)
        summary["fp16"] += 1

    kept = [init for init in graph.initializer if init.name not in replaced]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    # Restoring nodes go first so the graph stays topologically sorted.
    nodes = new_nodes + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return summary
