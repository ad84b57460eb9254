"""Write Hugging Face `tokenizer.json` files for GPT-2 and CLIP from OpenAI's vocabularies.

The files use the format of the Rust `tokenizers` library (format version "1.0"), which
@huggingface/tokenizers and transformers.js also read: a BPE model with its vocabulary and
merges, plus normalizer, pre-tokenizer, post-processor and decoder stages. Each file gets a
`tokenizer_config.json` beside it that names the special tokens and turns off the
"clean up tokenization spaces" step, which would change decoded text.

Usage from models/: `/usr/bin/python3 -m edgecap_models.tokenizer_json --out tokenizers`.

Choices that keep the ids equal to OpenAI's reference tokenizers:
- The split regexes spell whitespace out as the Unicode White_Space set. Python's `regex`
  `\\s` is that set, while JavaScript's `\\s` adds U+FEFF and drops U+0085.
- GPT-2 treats the text "<|endoftext|>" as ordinary characters, so it is not an added token.
  Id 50256 is still in the vocabulary and decodes to "<|endoftext|>".
- CLIP's `'s` alternative runs case-insensitively in the reference. After lower-casing, the
  only extra character that matters is the long s (U+017F), so the pattern spells `'[sſ]`.
"""

import argparse
import json
import sys
import unicodedata
from pathlib import Path

from .bpe import (
    CLIP_CONTEXT_LENGTH,
    CLIP_END_OF_TEXT,
    CLIP_END_OF_TEXT_ID,
    CLIP_END_OF_WORD,
    CLIP_START_OF_TEXT,
    CLIP_START_OF_TEXT_ID,
    DEFAULT_VOCAB_DIR,
    GPT2_END_OF_TEXT,
    CLIPTokenizer,
    GPT2Tokenizer,
)

# The Unicode White_Space property, which Python's `regex` module uses for `\s`. Characters
# without a common escape are written literally, because Oniguruma, JavaScript and Python
# spell code-point escapes differently.
WHITE_SPACE = "\\t\\n\x0b\\f\\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

GPT2_SPLIT_REGEX = (
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+"
    rf"| ?[^{WHITE_SPACE}\p{{L}}\p{{N}}]+|[{WHITE_SPACE}]+(?![^{WHITE_SPACE}])|[{WHITE_SPACE}]+"
)

CLIP_SPLIT_REGEX = (
    r"<\|startoftext\|>|<\|endoftext\|>|'[sſ]|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]"
    rf"|[^{WHITE_SPACE}\p{{L}}\p{{N}}]+"
)


def _added_token(token_id: int, content: str) -> dict:
    return {
        "id": token_id,
        "content": content,
        "single_word": False,
        "lstrip": False,
        "rstrip": False,
        "normalized": True,
        "special": True,
    }


def _bpe_model(vocab: dict[str, int], merges: list[tuple[str, str]], end_of_word_suffix: str, unk_token: str | None) -> dict:
    return {
        "type": "BPE",
        "dropout": None,
        "unk_token": unk_token,
        "continuing_subword_prefix": "",
        "end_of_word_suffix": end_of_word_suffix,
        "fuse_unk": False,
        "byte_fallback": False,
        "ignore_merges": False,
        "vocab": vocab,
        "merges": [f"{first} {second}" for first, second in merges],
    }


def _byte_level(use_regex: bool) -> dict:
    return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": use_regex}


def _regex_split(pattern: str, behavior: str, invert: bool) -> dict:
    return {"type": "Split", "pattern": {"Regex": pattern}, "behavior": behavior, "invert": invert}


def _replace(pattern: dict, content: str) -> dict:
    return {"type": "Replace", "pattern": pattern, "content": content}


def gpt2_tokenizer_json(tokenizer: GPT2Tokenizer) -> dict:
    """Build GPT-2's tokenizer.json: regex split, byte-level mapping, BPE, byte-level decoding."""
    merges = [pair for pair, _rank in sorted(tokenizer.bpe.ranks.items(), key=lambda item: item[1])]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [_regex_split(GPT2_SPLIT_REGEX, "Isolated", False), _byte_level(use_regex=False)],
        },
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "model": _bpe_model(dict(tokenizer.encoder), merges, "", None),
    }


def _clip_normalizers() -> list[dict]:
    """Normalizer steps that approximate CLIP's cleaning (ftfy, HTML unescaping, whitespace, lower case).

    NOTE: a tokenizer.json cannot express mojibake repair or the full HTML entity table.
    Only &amp; (three levels deep), &lt;, &gt;, &quot;, &#39;, &#x27; and &apos; are
    unescaped, and text such as "cafÃ©" keeps its mojibake. The Python CLIPTokenizer handles both.
    """
    steps = [_replace({"String": "&amp;"}, "&") for _ in range(3)]
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"), ("&#x27;", "'"), ("&apos;", "'")):
        steps.append(_replace({"String": entity}, char))

    steps.append(_replace({"Regex": "\x1b\\[[0-9;]*[A-Za-z]"}, ""))

    # C1 controls read as Windows-1252 (U+0085 becomes an ellipsis), as ftfy does.
    for code in range(0x80, 0xA0):
        if code in (0x81, 0x8D, 0x8F, 0x90, 0x9D):
            continue
        steps.append(_replace({"String": chr(code)}, bytes([code]).decode("cp1252")))

    # Latin ligatures, then fullwidth and halfwidth forms, to their compatibility equivalents.
    width_forms = [0x3000, *range(0xFF01, 0xFFEF)]
    for code in [*range(0xFB00, 0xFB07), 0x0132, 0x0133, *width_forms]:
        char = chr(code)
        replacement = unicodedata.normalize("NFKC", char)
        if replacement != char:
            steps.append(_replace({"String": char}, replacement))

    steps.append(_replace({"Regex": "[\u02bc\u2018-\u201b]"}, "'"))
    steps.append(_replace({"Regex": "[\u201c-\u201f]"}, '"'))
    steps.append(
        _replace(
            {"Regex": "[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]"},
            "",
        )
    )
    steps.append({"type": "NFC"})
    steps.append(_replace({"Regex": f"[{WHITE_SPACE}]+"}, " "))
    steps.append({"type": "Strip", "strip_left": True, "strip_right": True})
    steps.append({"type": "Lowercase"})
    return steps


def clip_tokenizer_json(tokenizer: CLIPTokenizer) -> dict:
    """Build CLIP's tokenizer.json: cleaning normalizers, regex split, BPE with "</w>", start and end tokens."""
    vocab = {token: token_id for token_id, token in tokenizer.decoder.items()}
    return {
        "version": "1.0",
        # Fitting to the 77-token context stays with the caller, so that encoding without special
        # tokens returns every BPE id, as OpenAI's SimpleTokenizer.encode does.
        "truncation": None,
        "padding": None,
        "added_tokens": [
            _added_token(CLIP_START_OF_TEXT_ID, CLIP_START_OF_TEXT),
            _added_token(CLIP_END_OF_TEXT_ID, CLIP_END_OF_TEXT),
        ],
        "normalizer": {"type": "Sequence", "normalizers": _clip_normalizers()},
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [_regex_split(CLIP_SPLIT_REGEX, "Removed", True), _byte_level(use_regex=False)],
        },
        "post_processor": {
            "type": "RobertaProcessing",
            "sep": [CLIP_END_OF_TEXT, CLIP_END_OF_TEXT_ID],
            "cls": [CLIP_START_OF_TEXT, CLIP_START_OF_TEXT_ID],
            "trim_offsets": False,
            "add_prefix_space": False,
        },
        # Bytes back to text first, then each "</w>" to a space, which leaves a trailing space
        # as OpenAI's decode does.
        "decoder": {
            "type": "Sequence",
            "decoders": [
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
                {"type": "Replace", "pattern": {"String": CLIP_END_OF_WORD}, "content": " "},
            ],
        },
        "model": _bpe_model(vocab, tokenizer.merges, CLIP_END_OF_WORD, CLIP_END_OF_TEXT),
    }


GPT2_TOKENIZER_CONFIG = {
    "tokenizer_class": "GPT2Tokenizer",
    "bos_token": GPT2_END_OF_TEXT,
    "eos_token": GPT2_END_OF_TEXT,
    "pad_token": GPT2_END_OF_TEXT,
    "unk_token": GPT2_END_OF_TEXT,
    "add_prefix_space": False,
    "clean_up_tokenization_spaces": False,
    "model_max_length": 1024,
}

CLIP_TOKENIZER_CONFIG = {
    "tokenizer_class": "CLIPTokenizer",
    "bos_token": CLIP_START_OF_TEXT,
    "eos_token": CLIP_END_OF_TEXT,
    "unk_token": CLIP_END_OF_TEXT,
    # Id 0 is the token "!", which OpenAI's clip.tokenize uses as padding.
    "pad_token": "!",
    "do_lower_case": True,
    "clean_up_tokenization_spaces": False,
    "model_max_length": CLIP_CONTEXT_LENGTH,
}


def write_tokenizer_files(out_dir: Path, vocab_dir: Path = DEFAULT_VOCAB_DIR) -> list[Path]:
    """Write gpt2/ and clip/ tokenizer.json and tokenizer_config.json under `out_dir`; return the paths."""
    documents = {
        Path("gpt2") / "tokenizer.json": gpt2_tokenizer_json(GPT2Tokenizer.from_vocab_dir(vocab_dir)),
        Path("gpt2") / "tokenizer_config.json": GPT2_TOKENIZER_CONFIG,
        Path("clip") / "tokenizer.json": clip_tokenizer_json(CLIPTokenizer.from_vocab_dir(vocab_dir)),
        Path("clip") / "tokenizer_config.json": CLIP_TOKENIZER_CONFIG,
    }
    written = []
    for relative, document in documents.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        # Compact separators keep the 50k-entry vocabularies small, and ensure_ascii=False
        # keeps the byte-level symbols ("Ġ") readable.
        text = json.dumps(document, ensure_ascii=False, indent=None, separators=(",", ":"))
        path.write_text(text + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m edgecap_models.tokenizer_json",
        description="Write Hugging Face tokenizer.json files for GPT-2 and CLIP from OpenAI's vocabulary files.",
    )
    parser.add_argument("--out", type=Path, default=Path("tokenizers"), help="output folder (default: tokenizers)")
    parser.add_argument(
        "--vocab-dir",
        type=Path,
        default=DEFAULT_VOCAB_DIR,
        help="folder with gpt2/encoder.json, gpt2/vocab.bpe and clip/bpe_simple_vocab_16e6.txt.gz",
    )
    args = parser.parse_args(argv)

    missing = [
        path
        for path in (
            args.vocab_dir / "gpt2" / "encoder.json",
            args.vocab_dir / "gpt2" / "vocab.bpe",
            args.vocab_dir / "clip" / "bpe_simple_vocab_16e6.txt.gz",
        )
        if not path.exists()
    ]
    if missing:
        parser.error(f"vocabulary file not found: {missing[0]}; pass --vocab-dir")

    for path in write_tokenizer_files(args.out, args.vocab_dir):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
