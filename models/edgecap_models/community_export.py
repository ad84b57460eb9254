"""Export small random-weight models in the community ONNX layout of optimum and transformers.js.

Captioner, `model_type: "vision-encoder-decoder"` (a ViT encoder with Hugging Face ViT parameter
names, a GPT-2 decoder with cross-attention as GPT2LMHeadModel(add_cross_attention=True) has):

    config.json, generation_config.json, preprocessor_config.json, tokenizer.json, tokenizer_config.json
    onnx/encoder_model.onnx         pixel_values [B, 3, 112, 112] -> last_hidden_state [B, 197, D]
    onnx/decoder_model_merged.onnx  input_ids [B, T], encoder_hidden_states [B, 197, D],
                                    past_key_values.{i}.key / .value [B, H, S, D/H], use_cache_branch [1] bool
                                    -> logits [B, T, V], present.{i}.key / .value [B, H, S + T, D/H],
                                       cross_attentions.{i} [B, H, T, 197] (per head, softmax weights)

GPT-2 recomputes its cross-attention keys and values from encoder_hidden_states at every step, so
its past contains self-attention keys and values only, named `past_key_values.{i}.key`. optimum
exports VisionEncoderDecoder models with a GPT-2 decoder this way, and transformers.js 4.x feeds
these names (configs.js getKeyValueNames, because a gpt2 decoder config has no encoder heads). Seq2seq
decoders such as BART's add `past_key_values.{i}.encoder.key`; edgecap's loader reads both, and
main() also writes the same decoder with those names (vit-gpt2-tiny-random-seq2seq) for its tests.

The merged decoder contains both graphs that optimum merges. With `use_cache_branch` false, the If
node runs the graph without past and ignores the past inputs. With true, it runs the graph with
past. Both branches read one shared set of initializers. `cross_attentions.{i}` are extra outputs that
transformers.js ignores unless asked for attentions.

CLIP, `model_type: "clip"`: onnx/vision_model.onnx (pixel_values -> image_embeds) and
onnx/text_model.onnx (input_ids, attention_mask -> text_embeds), embeddings not normalised, as
CLIPVisionModelWithProjection and CLIPTextModelWithProjection return them.

The models are in community_model.py, the If-node merge in onnx_merge.py and the PyTorch parity
fixtures in community_parity.py.

    PYTHONPATH=models /usr/bin/python3 -m edgecap_models.community_export \
        --out test/fixtures/community --fixtures test/fixtures/community/parity
"""

import argparse
import json
import shutil
from pathlib import Path

import onnx
import torch
import torch.nn as nn

from .clip_model import CLIPModel
from .community_model import (
    CommunityCaptioner,
    CommunityCaptionerConfig,
    DecoderWithoutPast,
    DecoderWithPast,
    Seq2SeqDecoderWithoutPast,
    Seq2SeqDecoderWithPast,
    tiny_community_captioner,
)
from .community_parity import write_captioner_fixture, write_clip_fixture, write_json
from .export import OPSET, TOKENIZERS, prepare_clip, tiny_clip
from .model import GPT2_END_OF_TEXT_ID
from .onnx_merge import merge_decoders
from .onnx_storage import compress_initializers

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_IMAGE = REPO_ROOT.parent / "shared" / "data" / "coco-mini" / "val2017" / "000000000139.jpg"
HALF = [0.5, 0.5, 0.5]


def _decoder_io(n_layer: int, naming: str) -> tuple[list[str], list[str], list[str]]:
    """Past input names, output names (logits and presents) and cross-attention output names.

    naming "self": GPT-2's past, self-attention only. "seq2seq": per layer the self-attention
    (`decoder`) and the cross-attention (`encoder`) keys and values, as seq2seq decoders name them.
    """
    kinds = ("key", "value") if naming == "self" else ("decoder.key", "decoder.value", "encoder.key", "encoder.value")
    past = [f"past_key_values.{i}.{kind}" for i in range(n_layer) for kind in kinds]
    present = [f"present.{i}.{kind}" for i in range(n_layer) for kind in kinds]
    cross = [f"cross_attentions.{i}" for i in range(n_layer)]
    return past, ["logits", *present], cross


@torch.no_grad()
def export_merged_decoder(
    model: CommunityCaptioner, merged_path: Path, work_dir: Path, naming: str = "self", split_dir: Path | None = None
) -> dict:
    """Export the decoder without and with past, merge them into merged_path; return storage summaries.

    split_dir: also write the two graphs before merging (decoder_model.onnx without past and
    decoder_with_past_model.onnx), the older optimum layout, to this folder.
    """
    cfg = model.cfg
    work_dir.mkdir(parents=True, exist_ok=True)
    hd = cfg.n_embd // cfg.n_head
    seq2seq = naming == "seq2seq"
    without_module = Seq2SeqDecoderWithoutPast(model) if seq2seq else DecoderWithoutPast(model)
    with_module = Seq2SeqDecoderWithPast(model) if seq2seq else DecoderWithPast(model)

    # Trace with two rows, two new tokens and a past of three, so no size is specialised to 0 or 1.
    hidden = torch.randn(2, cfg.encoder_tokens, cfg.n_embd)
    input_ids = torch.tensor([[GPT2_END_OF_TEXT_ID, 64], [GPT2_END_OF_TEXT_ID, 257]])
    past_names, output_names, cross_names = _decoder_io(cfg.n_layer, naming)
    past = [
        torch.randn(2, cfg.n_head, cfg.encoder_tokens if ".encoder." in name else 3, hd) for name in past_names
    ]
    dynamic = {
        "input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
        "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length"},
        "logits": {0: "batch_size", 1: "decoder_sequence_length"},
    }
    for name in cross_names:
        dynamic[name] = {0: "batch_size", 2: "decoder_sequence_length", 3: "encoder_sequence_length"}
    without = dict(dynamic)
    with_past = dict(dynamic)
    for name in past_names:
        length = "encoder_sequence_length" if ".encoder." in name else "past_decoder_sequence_length"
        with_past[name] = {0: "batch_size", 2: length}
    for name in output_names[1:]:
        cross_length = ".encoder." in name and "encoder_sequence_length"
        without[name] = {0: "batch_size", 2: cross_length or "decoder_sequence_length"}
        with_past[name] = {0: "batch_size", 2: cross_length or "past_decoder_sequence_length + decoder_sequence_length"}

    torch.onnx.export(
        without_module, (input_ids, hidden), str(work_dir / "decoder_model.onnx"), opset_version=OPSET,
        input_names=["input_ids", "encoder_hidden_states"], output_names=output_names + cross_names,
        dynamic_axes=without, do_constant_folding=False,
    )  # fmt: skip
    # A seq2seq graph with past reads the cached cross-attention keys and values, so it takes no
    # encoder_hidden_states (merge_decoders still gives the merged graph that input).
    with_inputs = (input_ids, *past) if seq2seq else (input_ids, hidden, *past)
    if seq2seq:
        del with_past["encoder_hidden_states"]
    with_names = ["input_ids", *past_names] if seq2seq else ["input_ids", "encoder_hidden_states", *past_names]
    torch.onnx.export(
        with_module, with_inputs, str(work_dir / "decoder_with_past_model.onnx"), opset_version=OPSET,
        input_names=with_names, output_names=output_names + cross_names, dynamic_axes=with_past,
        do_constant_folding=False,
    )  # fmt: skip

    without_past = onnx.load(work_dir / "decoder_model.onnx")
    merged = merge_decoders(without_past, onnx.load(work_dir / "decoder_with_past_model.onnx"))
    merged_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(merged, merged_path)
    wte = model.decoder.transformer.wte.weight.detach().numpy()
    storage = {merged_path.name: compress_initializers(str(merged_path), int8_rows={"wte": wte})}
    if split_dir is not None:
        split_dir.mkdir(parents=True, exist_ok=True)
        for name in ("decoder_model.onnx", "decoder_with_past_model.onnx"):
            shutil.copyfile(work_dir / name, split_dir / name)
            storage[name] = compress_initializers(str(split_dir / name), int8_rows={"wte": wte})
    return storage


@torch.no_grad()
def export_captioner_graphs(
    model: CommunityCaptioner, onnx_dir: Path, work_dir: Path, split_dir: Path | None = None
) -> dict:
    """Write encoder_model.onnx and decoder_model_merged.onnx; return the storage summaries.

    split_dir: as in export_merged_decoder.
    """
    cfg = model.cfg
    onnx_dir.mkdir(parents=True, exist_ok=True)
    pixels = torch.randn(2, 3, cfg.image_size, cfg.image_size)
    torch.onnx.export(
        model.encoder, (pixels,), str(onnx_dir / "encoder_model.onnx"), opset_version=OPSET,
        input_names=["pixel_values"], output_names=["last_hidden_state"],
        dynamic_axes={"pixel_values": {0: "batch_size"}, "last_hidden_state": {0: "batch_size"}},
        do_constant_folding=False,
    )  # fmt: skip
    storage = {"encoder_model.onnx": compress_initializers(str(onnx_dir / "encoder_model.onnx"))}
    storage.update(export_merged_decoder(model, onnx_dir / "decoder_model_merged.onnx", work_dir, "self", split_dir))
    return storage


def captioner_configs(cfg: CommunityCaptionerConfig, max_new_tokens: int = 20) -> dict[str, dict]:
    """config.json, generation_config.json and preprocessor_config.json as transformers writes them."""
    end = GPT2_END_OF_TEXT_ID
    encoder = {
        "model_type": "vit",
        "hidden_size": cfg.encoder_hidden,
        "num_hidden_layers": cfg.encoder_layers,
        "num_attention_heads": cfg.encoder_heads,
        "intermediate_size": 4 * cfg.encoder_hidden,
        "hidden_act": "gelu",
        "layer_norm_eps": cfg.vit_layer_norm_eps,
        "image_size": cfg.image_size,
        "patch_size": cfg.patch_size,
        "num_channels": 3,
        "qkv_bias": True,
    }
    decoder = {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "vocab_size": cfg.vocab_size,
        "n_positions": cfg.n_positions,
        "n_embd": cfg.n_embd,
        "n_layer": cfg.n_layer,
        "n_head": cfg.n_head,
        "n_inner": None,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": cfg.gpt2_layer_norm_eps,
        "add_cross_attention": True,
        "is_decoder": True,
        "bos_token_id": end,
        "eos_token_id": end,
        "pad_token_id": end,
        "decoder_start_token_id": end,
        "tie_word_embeddings": True,
    }
    config = {
        "model_type": "vision-encoder-decoder",
        "architectures": ["VisionEncoderDecoderModel"],
        "is_encoder_decoder": True,
        "tie_word_embeddings": False,
        "decoder_start_token_id": end,
        "bos_token_id": end,
        "eos_token_id": end,
        "pad_token_id": end,
        "encoder": encoder,
        "decoder": decoder,
    }
    generation = {
        "decoder_start_token_id": end,
        "bos_token_id": end,
        "eos_token_id": end,
        "pad_token_id": end,
        "max_new_tokens": max_new_tokens,
    }
    preprocessor = {
        "image_processor_type": "ViTImageProcessor",
        "feature_extractor_type": "ViTFeatureExtractor",
        "do_resize": True,
        "size": {"height": cfg.image_size, "width": cfg.image_size},
        "resample": 2,  # PIL.Image.BILINEAR
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": HALF,
        "image_std": HALF,
    }
    return {"config.json": config, "generation_config.json": generation, "preprocessor_config.json": preprocessor}


def export_community_captioner(model: CommunityCaptioner, out: Path, split_dir: Path | None = None) -> dict:
    """Write the captioner package to `out` (see the module doc); split_dir as in export_captioner_graphs."""
    out.mkdir(parents=True, exist_ok=True)
    storage = export_captioner_graphs(model, out / "onnx", out / ".work", split_dir)
    shutil.rmtree(out / ".work")
    for name, value in captioner_configs(model.cfg).items():
        write_json(out / name, value)
    shutil.copyfile(TOKENIZERS["gpt2"] / "tokenizer.json", out / "tokenizer.json")
    shutil.copyfile(TOKENIZERS["gpt2"] / "tokenizer_config.json", out / "tokenizer_config.json")
    return storage


# ----------------------------------------------------------------------------------------------
# CLIP in the community layout


class CLIPVisionWithProjection(nn.Module):
    def __init__(self, clip: CLIPModel):
        super().__init__()
        self.clip = clip

    def forward(self, pixel_values):
        return self.clip.encode_image(pixel_values)


class CLIPTextWithProjection(nn.Module):
    """input_ids and attention_mask -> text_embeds; the mask is unused because attention is causal
    and the embedding is read at the end token, so padding after it cannot change the result."""

    def __init__(self, clip: CLIPModel):
        super().__init__()
        self.clip = clip

    def forward(self, input_ids, attention_mask):
        return self.clip.encode_text(input_ids) + 0 * attention_mask.sum().to(torch.float32)


def clip_configs(model: CLIPModel) -> dict[str, dict]:
    """config.json and preprocessor_config.json of the CLIP package, as transformers writes them."""
    vision, text = model.cfg.vision, model.cfg.text
    config = {
        "model_type": "clip",
        "architectures": ["CLIPModel"],
        "projection_dim": model.cfg.embed_dim,
        "logit_scale_init_value": float(model.logit_scale),
        "text_config": {
            "model_type": "clip_text_model",
            "vocab_size": text.vocab_size,
            "hidden_size": text.width,
            "num_hidden_layers": text.layers,
            "num_attention_heads": text.heads,
            "max_position_embeddings": text.context_length,
            "bos_token_id": 49406,
            "eos_token_id": 49407,
            "pad_token_id": 0,
        },
        "vision_config": {
            "model_type": "clip_vision_model",
            "hidden_size": vision.embed_dim,
            "num_hidden_layers": vision.depth,
            "num_attention_heads": vision.num_heads,
            "image_size": vision.image_size,
            "patch_size": vision.patch_size,
        },
    }
    # openai/CLIP's transform: shortest edge, bicubic, center crop, CLIP mean and std.
    preprocessor = {
        "image_processor_type": "CLIPImageProcessor",
        "feature_extractor_type": "CLIPFeatureExtractor",
        "do_resize": True,
        "size": {"shortest_edge": vision.image_size},
        "resample": 3,  # PIL.Image.BICUBIC
        "do_center_crop": True,
        "crop_size": {"height": vision.image_size, "width": vision.image_size},
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "do_convert_rgb": True,
    }
    return {"config.json": config, "preprocessor_config.json": preprocessor}


@torch.no_grad()
def export_community_clip(model: CLIPModel, out: Path) -> dict:
    """Write the CLIP package to `out` (see the module doc); return the storage summaries."""
    onnx_dir = out / "onnx"
    onnx_dir.mkdir(parents=True, exist_ok=True)
    vision, text = model.cfg.vision, model.cfg.text
    pixels = torch.randn(2, 3, vision.image_size, vision.image_size)
    torch.onnx.export(
        CLIPVisionWithProjection(model), (pixels,), str(onnx_dir / "vision_model.onnx"), opset_version=OPSET,
        input_names=["pixel_values"], output_names=["image_embeds"],
        dynamic_axes={"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"}}, do_constant_folding=False,
    )  # fmt: skip

    # The end token (the highest id) at position 5 gives the trace a realistic row to read.
    ids = torch.randint(1, 1000, (2, text.context_length))
    ids[:, 5] = 49407
    torch.onnx.export(
        CLIPTextWithProjection(model), (ids, torch.ones_like(ids)), str(onnx_dir / "text_model.onnx"),
        opset_version=OPSET, input_names=["input_ids", "attention_mask"], output_names=["text_embeds"],
        dynamic_axes={name: {0: "batch_size"} for name in ("input_ids", "attention_mask", "text_embeds")},
        do_constant_folding=False,
    )  # fmt: skip

    table = model.token_embedding.weight.numpy()
    storage = {
        "vision_model.onnx": compress_initializers(str(onnx_dir / "vision_model.onnx")),
        "text_model.onnx": compress_initializers(
            str(onnx_dir / "text_model.onnx"), int8_rows={"token_embedding": table}
        ),
    }
    for name, value in clip_configs(model).items():
        write_json(out / name, value)
    shutil.copyfile(TOKENIZERS["clip"] / "tokenizer.json", out / "tokenizer.json")
    shutil.copyfile(TOKENIZERS["clip"] / "tokenizer_config.json", out / "tokenizer_config.json")
    return storage


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="parent folder of the two community packages")
    parser.add_argument("--fixtures", type=Path, default=None, help="write parity fixtures under this folder")
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE, help="photo for the captioner fixture")
    args = parser.parse_args(argv)

    captioner = tiny_community_captioner()
    # The split graphs go alone into their own folder: tests pair them with the merged package's
    # JSON and tokenizer files instead of storing those twice.
    storage = export_community_captioner(
        captioner, args.out / "vit-gpt2-tiny-random", args.out / "vit-gpt2-tiny-random-split" / "onnx"
    )
    # The same decoder with seq2seq past names, for the loader's other naming (tests only, because
    # transformers.js reads a gpt2 decoder config with GPT-2's names).
    seq2seq_dir = args.out / "vit-gpt2-tiny-random-seq2seq" / "onnx"
    storage["seq2seq"] = export_merged_decoder(
        captioner, seq2seq_dir / "decoder_model_merged.onnx", seq2seq_dir / ".work", "seq2seq"
    )
    shutil.rmtree(seq2seq_dir / ".work")
    clip = tiny_clip(seed=1)
    prepare_clip(clip)
    clip_storage = export_community_clip(clip, args.out / "clip-tiny-random")
    if args.fixtures:
        write_captioner_fixture(captioner, args.image, args.fixtures / "vit-gpt2-tiny-random")
        write_clip_fixture(clip, args.fixtures / "clip-tiny-random")
    print(json.dumps({"captioner": storage, "clip": clip_storage}, indent=2))


if __name__ == "__main__":
    main()
