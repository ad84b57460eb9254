"""Tests of the package export: graph interfaces, storage precision, manifest, parity fixtures."""

import json

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto

from edgecap_models import parity
from edgecap_models.export import (
    SCHEMA,
    export_captioner,
    export_clip,
    prepare_captioner,
    prepare_clip,
    sha256_of,
    tiny_captioner,
    tiny_clip,
)
from edgecap_models.model import ViTConfig, VisionTransformer
from edgecap_models.onnx_storage import quantize_rows


@pytest.fixture(scope="module")
def captioner_package(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packages")
    model = tiny_captioner()
    storage = prepare_captioner(model)
    manifest = export_captioner(model, folder / "tiny", "test-tiny", {"training": storage})
    return model, folder / "tiny", manifest


@pytest.fixture(scope="module")
def clip_package(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packages")
    model = tiny_clip()
    prepare_clip(model)
    manifest = export_clip(model, folder / "tiny-clip", "test-tiny-clip")
    return model, folder / "tiny-clip", manifest


def value_info_shape(value):
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def test_vision_graph_interface(captioner_package):
    _, folder, _ = captioner_package
    graph = onnx.load(folder / "vision.onnx").graph
    assert [i.name for i in graph.input] == ["pixel_values"]
    assert value_info_shape(graph.input[0]) == ["batch", 3, 112, 112]
    assert [o.name for o in graph.output] == ["prefix_embeds"]


def test_decoder_graph_interface(captioner_package):
    _, folder, _ = captioner_package
    model = onnx.load(folder / "decoder.onnx")
    assert model.opset_import[0].version <= 17
    inputs = {i.name: value_info_shape(i) for i in model.graph.input}
    outputs = [o.name for o in model.graph.output]
    assert inputs["prefix_embeds"] == ["batch", "prefix_length", 32]
    assert inputs["input_ids"] == ["batch", "new_tokens"]
    assert inputs["past_key_values.1.value"] == ["batch", 2, "past_length", 16]
    assert outputs == ["logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value", "prefix_attention"]


def test_vocabulary_table_stored_once_as_int8(captioner_package):
    model, folder, _ = captioner_package
    initializers = onnx.load(folder / "decoder.onnx").graph.initializer
    int8 = [i for i in initializers if i.data_type == TensorProto.INT8]
    assert [tuple(i.dims) for i in int8] == [(50257, 32)]
    big_float = [i for i in initializers if i.data_type == TensorProto.FLOAT and np.prod(i.dims) >= 1024]
    assert [tuple(i.dims) for i in big_float] == [(50257, 1)]  # the per-row scales


def test_rounded_weights_match_storage(captioner_package):
    model, _, _ = captioner_package
    wte = model.gpt2.transformer.wte.weight
    q, scale = quantize_rows(wte)
    assert torch.equal(q.float() * scale, wte)
    fc1 = model.vit.blocks[0].mlp.fc1.weight
    assert torch.equal(fc1.half().float(), fc1)


def test_captioner_manifest(captioner_package):
    _, folder, manifest = captioner_package
    on_disk = json.loads((folder / "manifest.json").read_text())
    assert on_disk == manifest
    assert manifest["schema"] == SCHEMA
    assert manifest["prefix"]["length"] == 197
    assert manifest["prefix"]["grid"] == {"rows": 14, "cols": 14}
    assert manifest["decoder"]["outputs"]["prefix_attention"] == [2, "batch", "new_tokens", 197]
    assert manifest["tokenizer"]["eos_token_id"] == 50256
    assert manifest["preprocessing"]["size"] == 112
    assert manifest["training"]["lora_unmerged_modules"] == ["gpt2.lm_head"]
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == sha256_of(folder / name)


def test_clip_package(clip_package):
    _, folder, manifest = clip_package
    image = onnx.load(folder / "image.onnx").graph
    text = onnx.load(folder / "text.onnx").graph
    assert [o.name for o in image.output] == ["image_embeds"]
    assert value_info_shape(text.input[0]) == ["batch", 77]
    assert manifest["tokenizer"]["eos_token_id"] == 49407
    assert manifest["embeddings"] == {"dim": 32, "normalized": True}


def test_captioner_fixture_steps(captioner_package, tmp_path):
    model, folder, _ = captioner_package
    fixture_dir = parity.write_captioner_fixture(model, folder, tmp_path, "test-tiny")
    fixture = json.loads((fixture_dir / "fixture.json").read_text())
    steps = fixture["steps"]
    assert [s["prefix_length"] for s in steps] == [197, 0, 0, 0]
    assert [s["past_length"] for s in steps] == [0, 198, 199, 201]
    assert steps[2]["prefix_attention_shape"] == [2, 2, 2, 197]
    pixels = np.fromfile(fixture_dir / "pixel_values.f32", dtype="<f4")
    assert pixels.size == np.prod(fixture["pixel_values"]["shape"])


def test_hybrid_vision_graph_exports_its_conv_stem(tmp_path):
    # The demo ViT has a conv stem before the patch projection; the vision graph must carry it.
    torch.manual_seed(0)
    model = tiny_captioner()
    stem_cfg = ViTConfig(embed_dim=32, depth=2, num_heads=2, stem_channels=(8, 8, 16, 16))
    model.vit = VisionTransformer(stem_cfg)
    model.cfg.vit = stem_cfg
    storage = prepare_captioner(model)
    export_captioner(model, tmp_path / "hybrid", "test-hybrid", {"training": storage})
    graph = onnx.load(tmp_path / "hybrid" / "vision.onnx").graph
    assert value_info_shape(graph.input[0]) == ["batch", 3, 112, 112]
    assert sum(node.op_type == "Conv" for node in graph.node) == 5  # 4 stem convolutions + the 1 x 1 projection
    manifest = json.loads((tmp_path / "hybrid" / "manifest.json").read_text())
    assert manifest["prefix"]["length"] == 197
