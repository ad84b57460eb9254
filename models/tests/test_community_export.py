"""Tests of the community-layout export: parameter names, the merged decoder graph, configs, fixtures."""

import json

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, numpy_helper

from edgecap_models.community_export import (
    captioner_configs,
    export_community_captioner,
    export_community_clip,
    export_merged_decoder,
)
from edgecap_models.community_model import CommunityCaptioner, CommunityCaptionerConfig, tiny_community_captioner
from edgecap_models.community_parity import write_captioner_fixture
from edgecap_models.export import prepare_clip, tiny_clip
from edgecap_models.model import GPT2_END_OF_TEXT_ID
from PIL import Image


@pytest.fixture(scope="module")
def model():
    return tiny_community_captioner()


@pytest.fixture(scope="module")
def package(tmp_path_factory, model):
    folder = tmp_path_factory.mktemp("community")
    storage = export_community_captioner(model, folder / "captioner", folder / "split")
    return folder, storage


def test_parameter_names_follow_transformers(model):
    names = set(model.state_dict())

    for expected in [
        "encoder.embeddings.cls_token",
        "encoder.embeddings.position_embeddings",
        "encoder.embeddings.patch_embeddings.projection.weight",
        "encoder.encoder.layer.0.attention.attention.query.weight",
        "encoder.encoder.layer.0.attention.output.dense.weight",
        "encoder.encoder.layer.1.layernorm_before.weight",
        "encoder.encoder.layer.1.intermediate.dense.weight",
        "encoder.layernorm.bias",
        "decoder.transformer.wte.weight",
        "decoder.transformer.h.0.attn.c_attn.weight",
        "decoder.transformer.h.0.ln_cross_attn.weight",
        "decoder.transformer.h.0.crossattention.q_attn.weight",
        "decoder.transformer.h.1.crossattention.c_attn.weight",
        "decoder.transformer.h.1.mlp.c_fc.weight",
        "decoder.transformer.ln_f.weight",
    ]:
        assert expected in names, expected
    # GPT-2's Conv1D stores [in, out]: c_attn maps 32 to 3 x 32.
    assert tuple(model.state_dict()["decoder.transformer.h.0.attn.c_attn.weight"].shape) == (32, 96)


@torch.no_grad()
def test_stepwise_decoding_equals_full_sequence(model):
    hidden = model.encoder(torch.randn(1, 3, 112, 112, generator=torch.Generator().manual_seed(0)))
    ids = torch.tensor([[GPT2_END_OF_TEXT_ID, 64, 257, 290]])
    full, _, full_cross = model.decoder(ids, hidden)

    past, rows, cross_rows = None, [], []
    for position in range(ids.shape[1]):
        logits, past, cross = model.decoder(ids[:, position : position + 1], hidden, past)
        rows.append(logits[:, -1])
        cross_rows.append(cross[0][:, :, -1])

    assert torch.allclose(torch.stack(rows, dim=1), full, atol=1e-5)
    assert torch.allclose(torch.stack(cross_rows, dim=2), full_cross[0], atol=1e-6)


def test_merged_decoder_interface(package):
    folder, _ = package
    graph = onnx.load(folder / "captioner" / "onnx" / "decoder_model_merged.onnx").graph
    inputs = [value.name for value in graph.input]
    outputs = [value.name for value in graph.output]

    assert inputs == [
        "input_ids",
        "encoder_hidden_states",
        "past_key_values.0.key",
        "past_key_values.0.value",
        "past_key_values.1.key",
        "past_key_values.1.value",
        "use_cache_branch",
    ]
    assert outputs == [
        "logits",
        "present.0.key",
        "present.0.value",
        "present.1.key",
        "present.1.value",
        "cross_attentions.0",
        "cross_attentions.1",
    ]
    cache_branch = next(value for value in graph.input if value.name == "use_cache_branch")
    assert cache_branch.type.tensor_type.elem_type == TensorProto.BOOL
    past_dims = next(value for value in graph.input if value.name == "past_key_values.0.key").type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in past_dims] == ["batch_size", 2, "past_decoder_sequence_length", 16]
    # Only the restoring Cast/Mul nodes precede the one If node, whose branches hold the graphs.
    assert graph.node[-1].op_type == "If"
    assert {node.op_type for node in graph.node[:-1]} <= {"Cast", "Mul"}


def test_merged_decoder_stores_each_table_once(package):
    folder, storage = package
    graph = onnx.load(folder / "captioner" / "onnx" / "decoder_model_merged.onnx").graph
    int8 = [init for init in graph.initializer if init.data_type == TensorProto.INT8]
    contents = [numpy_helper.to_array(init).tobytes() for init in graph.initializer]

    assert [tuple(init.dims) for init in int8] == [(50257, 32)]
    assert len(contents) == len(set(contents))
    assert storage["decoder_model_merged.onnx"]["int8_rows"][0]["label"] == "wte"


def test_split_graphs_are_written(package):
    folder, _ = package
    without_past = onnx.load(folder / "split" / "decoder_model.onnx").graph
    with_past = onnx.load(folder / "split" / "decoder_with_past_model.onnx").graph

    assert [value.name for value in without_past.input] == ["input_ids", "encoder_hidden_states"]
    assert "past_key_values.1.value" in [value.name for value in with_past.input]


def test_encoder_interface(package):
    folder, _ = package
    graph = onnx.load(folder / "captioner" / "onnx" / "encoder_model.onnx").graph

    assert [value.name for value in graph.input] == ["pixel_values"]
    assert [value.name for value in graph.output] == ["last_hidden_state"]


def test_configs_for_transformers_js(package):
    folder, _ = package
    config = json.loads((folder / "captioner" / "config.json").read_text())
    preprocessor = json.loads((folder / "captioner" / "preprocessor_config.json").read_text())
    generation = json.loads((folder / "captioner" / "generation_config.json").read_text())

    assert config["model_type"] == "vision-encoder-decoder"
    assert config["encoder"]["model_type"] == "vit"
    assert config["decoder"]["model_type"] == "gpt2"
    assert config["decoder"]["add_cross_attention"] is True
    assert config["decoder"]["vocab_size"] == 50257
    assert config["encoder"]["image_size"] // config["encoder"]["patch_size"] == 14
    assert preprocessor["image_processor_type"] == "ViTImageProcessor"
    assert preprocessor["size"] == {"height": 112, "width": 112}
    assert preprocessor["resample"] == 2
    assert generation["decoder_start_token_id"] == GPT2_END_OF_TEXT_ID
    assert (folder / "captioner" / "tokenizer.json").exists()


def test_configs_follow_the_geometry():
    configs = captioner_configs(CommunityCaptionerConfig(image_size=224, patch_size=16, n_layer=3))

    assert configs["config.json"]["encoder"]["image_size"] == 224
    assert configs["config.json"]["decoder"]["n_layer"] == 3
    assert configs["preprocessor_config.json"]["size"] == {"height": 224, "width": 224}


def test_clip_package(tmp_path):
    clip = tiny_clip(seed=1)
    prepare_clip(clip)
    export_community_clip(clip, tmp_path)
    vision = onnx.load(tmp_path / "onnx" / "vision_model.onnx").graph
    text = onnx.load(tmp_path / "onnx" / "text_model.onnx").graph
    config = json.loads((tmp_path / "config.json").read_text())

    assert [value.name for value in vision.output] == ["image_embeds"]
    assert [value.name for value in text.input] == ["input_ids", "attention_mask"]
    assert [value.name for value in text.output] == ["text_embeds"]
    assert config["model_type"] == "clip"
    assert config["text_config"]["max_position_embeddings"] == 77


def test_captioner_fixture(tmp_path):
    model = CommunityCaptioner(CommunityCaptionerConfig()).eval()
    image = tmp_path / "photo.jpg"
    Image.fromarray(np.full((60, 90, 3), 128, dtype=np.uint8)).save(image)
    fixture = write_captioner_fixture(model, image, tmp_path / "fixture")
    pixels = np.fromfile(tmp_path / "fixture" / "pixel_values.f32", dtype="<f4")

    assert pixels.size == 3 * 112 * 112
    assert np.allclose(pixels, (128 / 255 - 0.5) / 0.5, atol=1e-6)
    assert [step["input_ids"] for step in fixture["steps"]] == [[GPT2_END_OF_TEXT_ID], [64], [257, 290], [1402]]
    assert [step["use_cache_branch"] for step in fixture["steps"]] == [False, True, True, True]
    assert fixture["steps"][2]["present_shape"] == [1, 2, 4, 16]
    assert len(fixture["greedy"]["token_ids"]) <= fixture["greedy"]["max_new_tokens"]


@torch.no_grad()
def test_cached_cross_attention_equals_recomputed(model):
    hidden = model.encoder(torch.randn(1, 3, 112, 112, generator=torch.Generator().manual_seed(1)))
    first = torch.tensor([[GPT2_END_OF_TEXT_ID]])
    _, past, _, cross_past = model.decoder.forward_with_cross_past(first, hidden)
    following = torch.tensor([[64]])

    recomputed, _, _ = model.decoder(following, hidden, past)
    cached, _, _, _ = model.decoder.forward_with_cross_past(following, None, past, cross_past)

    assert torch.equal(cached, recomputed)


def test_seq2seq_names(tmp_path, model):
    export_merged_decoder(model, tmp_path / "decoder_model_merged.onnx", tmp_path / "work", "seq2seq")
    graph = onnx.load(tmp_path / "decoder_model_merged.onnx").graph
    with_past = onnx.load(tmp_path / "work" / "decoder_with_past_model.onnx").graph

    assert [value.name for value in graph.input][:6] == [
        "input_ids",
        "encoder_hidden_states",
        "past_key_values.0.decoder.key",
        "past_key_values.0.decoder.value",
        "past_key_values.0.encoder.key",
        "past_key_values.0.encoder.value",
    ]
    assert "present.1.encoder.value" in [value.name for value in graph.output]
    # The graph with past reads the cached cross-attention keys, not the encoder output.
    assert "encoder_hidden_states" not in [value.name for value in with_past.input]
