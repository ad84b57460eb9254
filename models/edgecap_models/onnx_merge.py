"""Merge optimum's two decoder graphs (without and with past) into one graph with an If node.

decoder_model_merged takes the inputs of both graphs plus `use_cache_branch` (bool [1]). False runs
the graph without past, which ignores the past inputs, and true runs the graph with past. Both
branches read one shared set of initializers from the outer graph.
"""

import hashlib

import onnx
from onnx import TensorProto, helper, numpy_helper


def _tensor_key(init: onnx.TensorProto) -> tuple:
    array = numpy_helper.to_array(init)
    return (init.data_type, array.shape, hashlib.sha256(array.tobytes()).hexdigest())


def _branch(model: onnx.ModelProto, tag: str, outer_names: set, shared: dict, hoisted: list) -> onnx.GraphProto:
    """Turn an exported graph into an If branch that reads the outer graph's inputs and initializers.

    Initializers move to the outer graph, one copy per distinct content (`shared` maps content to
    name). Every other value name gets the `tag/` prefix, so the two branches never collide.
    """
    graph = model.graph
    renames = {}
    for init in graph.initializer:
        key = _tensor_key(init)
        if key not in shared:
            name = init.name if init.name not in outer_names else f"{tag}/{init.name}"
            copy = onnx.TensorProto()
            copy.CopyFrom(init)
            copy.name = name
            hoisted.append(copy)
            shared[key] = name
            outer_names.add(name)
        renames[init.name] = shared[key]
    inputs = {value.name for value in graph.input}

    def rename(name: str) -> str:
        if name == "" or name in inputs:
            return name
        return renames.get(name, f"{tag}/{name}")

    nodes = []
    for node in graph.node:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.name = f"{tag}/{node.name}"
        copy.input[:] = [rename(name) for name in node.input]
        copy.output[:] = [rename(name) for name in node.output]
        nodes.append(copy)
    outputs = []
    for value in graph.output:
        copy = onnx.ValueInfoProto()
        copy.CopyFrom(value)
        copy.name = rename(value.name)
        # Shapes differ between the branches, so each branch states only the element type.
        copy.type.tensor_type.ClearField("shape")
        outputs.append(copy)
    return helper.make_graph(nodes, f"{tag}_branch", [], outputs)


def merge_decoders(without_past: onnx.ModelProto, with_past: onnx.ModelProto) -> onnx.ModelProto:
    """Build decoder_model_merged: the inputs of both graphs plus `use_cache_branch`, one If node."""
    # The graph with past may not read encoder_hidden_states (seq2seq decoders cache the
    # cross-attention keys and values), so the outer inputs are the union of both graphs' inputs.
    inputs = list(without_past.graph.input)
    inputs += [value for value in with_past.graph.input if value.name not in {i.name for i in inputs}]
    cache_branch = helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1])
    outer_names = {value.name for value in inputs} | {"use_cache_branch"}
    shared, hoisted = {}, []
    then_branch = _branch(with_past, "with_past", outer_names, shared, hoisted)
    else_branch = _branch(without_past, "without_past", outer_names, shared, hoisted)
    outputs = list(with_past.graph.output)
    node = helper.make_node(
        "If",
        ["use_cache_branch"],
        [value.name for value in outputs],
        name="optimum::if",
        then_branch=then_branch,
        else_branch=else_branch,
    )
    graph = helper.make_graph([node], "decoder_model_merged", [*inputs, cache_branch], outputs, hoisted)
    merged = helper.make_model(graph, opset_imports=with_past.opset_import, producer_name="edgecap community_export")
    merged.ir_version = with_past.ir_version
    onnx.checker.check_model(merged)
    return merged
