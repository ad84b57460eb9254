"""Build a tiny, randomly initialised LLaVA-1.5 look-alike entirely in code (no downloads).

It keeps every shape that the attention post-processing depends on: a CLIP vision tower at
336 px with 14 px patches (24 x 24 = 576 image tokens after the CLS feature is dropped), the
"USER: <image>\\n... ASSISTANT:" prompt, BOS at position 0 and the processor's expansion of
'<image>'. Everything else is shrunk (2 layers, hidden size 32), so its captions are noise: it
exercises the tool end to end and measures nothing about LLaVA.

Tokenizer: a byte-level BPE with no merges, built with the `tokenizers` library (a dependency of
transformers). Its vocabulary is 5 special tokens (<unk> 0, <s> 1, </s> 2, <pad> 3, <image> 4)
followed by the 256 byte symbols of GPT-2's byte-to-unicode alphabet, so every string encodes
one token per UTF-8 byte and decodes back exactly. A post-processor prepends <s> as the Llama
tokenizer does.

NOTE: written against transformers 4.47-5.x and never run here, because this machine has no
transformers; the first GPU run is its test.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

IMAGE_SIZE = 336
PATCH_SIZE = 14
SPECIAL_TOKENS = ("<unk>", "<s>", "</s>", "<pad>", "<image>")
BOS_ID, EOS_ID, PAD_ID, IMAGE_TOKEN_ID = 1, 2, 3, 4


def build_tokenizer(transformers: ModuleType) -> Any:
    """Return a PreTrainedTokenizerFast over the byte-level vocabulary described above."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    vocabulary = {token: index for index, token in enumerate(SPECIAL_TOKENS)}
    for symbol in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocabulary[symbol] = len(vocabulary)

    backend = Tokenizer(models.BPE(vocab=vocabulary, merges=[], unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", BOS_ID)]
    )
    # Registering the specials makes '<image>' one token instead of seven bytes.
    backend.add_special_tokens(list(SPECIAL_TOKENS))

    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )


def build_processor(transformers: ModuleType, tokenizer: Any) -> Any:
    """Return a LlavaProcessor with LLaVA-1.5's image preprocessing and token expansion."""
    image_processor = transformers.CLIPImageProcessor(
        do_resize=True,
        size={"shortest_edge": IMAGE_SIZE},
        do_center_crop=True,
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
    )

    arguments: dict[str, Any] = {
        "image_processor": image_processor,
        "tokenizer": tokenizer,
        "patch_size": PATCH_SIZE,
        "vision_feature_select_strategy": "default",
        "image_token": "<image>",
    }
    # From transformers 4.47 the processor counts the CLS feature only with
    # num_additional_image_tokens=1. Strategy "default" then subtracts it again, leaving 24 * 24 = 576 tokens.
    if "num_additional_image_tokens" in inspect.signature(transformers.LlavaProcessor.__init__).parameters:
        arguments["num_additional_image_tokens"] = 1

    return transformers.LlavaProcessor(**arguments)


def build_model(transformers: ModuleType, vocabulary_size: int, seed: int) -> Any:
    """Return a randomly initialised LlavaForConditionalGeneration with eager attention."""
    import torch

    vision_config = transformers.CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=IMAGE_SIZE,
        patch_size=PATCH_SIZE,
        projection_dim=32,
    )
    text_config = transformers.LlamaConfig(
        vocab_size=vocabulary_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=1024,
        bos_token_id=BOS_ID,
        eos_token_id=EOS_ID,
        pad_token_id=PAD_ID,
    )
    config = transformers.LlavaConfig(
        vision_config=vision_config,
        text_config=text_config,
        image_token_index=IMAGE_TOKEN_ID,
        vision_feature_layer=-2,
        vision_feature_select_strategy="default",
        projector_hidden_act="gelu",
    )

    torch.manual_seed(seed)
    return transformers.LlavaForConditionalGeneration._from_config(config, attn_implementation="eager")


def build_tiny_random(transformers: ModuleType, seed: int) -> tuple[Any, Any]:
    """Return (model, processor) for the tiny random LLaVA."""
    tokenizer = build_tokenizer(transformers)
    processor = build_processor(transformers, tokenizer)
    model = build_model(transformers, len(tokenizer), seed)
    return model, processor
