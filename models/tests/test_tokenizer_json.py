"""The generated tokenizer.json files: in sync with the generator, and faithful to the reference splits."""

import json
import unicodedata
from pathlib import Path

import pytest
import regex

from edgecap_models.bpe import DEFAULT_VOCAB_DIR
from edgecap_models.tokenizer_json import write_tokenizer_files

COMMITTED_DIR = Path(__file__).resolve().parents[1] / "tokenizers"
GOLDEN_DIR = DEFAULT_VOCAB_DIR.parent / "golden" / "tokenizers"

# Cases whose cleaning a tokenizer.json cannot express: numeric and rare HTML entities, and mojibake.
CLIP_NORMALIZER_GAPS = {"html_various", "ftfy_mojibake"}

pytestmark = pytest.mark.skipif(
    not (DEFAULT_VOCAB_DIR.exists() and GOLDEN_DIR.exists()),
    reason="vocabularies and golden ids are read from the folder `shared` beside the checkout",
)


def _load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _cases(name):
    path = GOLDEN_DIR / name
    return _load(path)["cases"] if path.exists() else []


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("tokenizers")
    write_tokenizer_files(out_dir)
    return out_dir


@pytest.fixture(scope="module")
def gpt2_json():
    return _load(COMMITTED_DIR / "gpt2" / "tokenizer.json")


@pytest.fixture(scope="module")
def clip_json():
    return _load(COMMITTED_DIR / "clip" / "tokenizer.json")


@pytest.mark.parametrize(
    "relative",
    ["gpt2/tokenizer.json", "gpt2/tokenizer_config.json", "clip/tokenizer.json", "clip/tokenizer_config.json"],
)
def test_committed_file_matches_generator(generated, relative):
    committed = (COMMITTED_DIR / relative).read_bytes()
    fresh = (generated / relative).read_bytes()
    assert committed == fresh, f"models/tokenizers/{relative} is stale; run python -m edgecap_models.tokenizer_json"


def test_gpt2_model_section(gpt2_json):
    model = gpt2_json["model"]
    assert model["type"] == "BPE"
    assert len(model["vocab"]) == 50257
    assert model["vocab"]["<|endoftext|>"] == 50256
    assert len(model["merges"]) == 50000
    assert model["merges"][0] == "Ġ t"
    assert gpt2_json["added_tokens"] == []
    assert gpt2_json["decoder"]["type"] == "ByteLevel"


def test_clip_model_section(clip_json):
    model = clip_json["model"]
    assert model["type"] == "BPE"
    assert model["end_of_word_suffix"] == "</w>"
    assert len(model["vocab"]) == 49408
    assert len(model["merges"]) == 48894
    assert model["vocab"]["a</w>"] == 320
    added = {token["content"]: token["id"] for token in clip_json["added_tokens"]}
    assert added == {"<|startoftext|>": 49406, "<|endoftext|>": 49407}
    assert clip_json["post_processor"]["cls"] == ["<|startoftext|>", 49406]
    assert clip_json["post_processor"]["sep"] == ["<|endoftext|>", 49407]


@pytest.mark.parametrize("case", _cases("gpt2_cases.json"), ids=lambda case: case["id"])
def test_gpt2_split_matches_reference(gpt2_json, case):
    split = gpt2_json["pre_tokenizer"]["pretokenizers"][0]
    assert split["behavior"] == "Isolated"
    assert regex.findall(split["pattern"]["Regex"], case["text"]) == case["pretokens"]


def _normalize(steps, text):
    """Run the normalizer steps that the CLIP file uses, with the Rust library's semantics."""
    for step in steps:
        kind = step["type"]
        if kind == "Replace" and "String" in step["pattern"]:
            text = text.replace(step["pattern"]["String"], step["content"])
        elif kind == "Replace":
            text = regex.sub(step["pattern"]["Regex"], lambda _match, c=step["content"]: c, text)
        elif kind == "NFC":
            text = unicodedata.normalize("NFC", text)
        elif kind == "Strip":
            text = text.strip()
        elif kind == "Lowercase":
            text = text.lower()
        else:
            raise AssertionError(f"normalizer step {kind!r} has no model in this test")
    return text


@pytest.mark.parametrize("case", _cases("clip_cases.json"), ids=lambda case: case["id"])
def test_clip_normalizer_and_split(clip_json, case):
    normalized = _normalize(clip_json["normalizer"]["normalizers"], case["text"])
    if case["id"] in CLIP_NORMALIZER_GAPS:
        assert normalized != case["cleaned"]
        return
    assert normalized == case["cleaned"]
    split = clip_json["pre_tokenizer"]["pretokenizers"][0]
    assert split["invert"] is True
    assert regex.findall(split["pattern"]["Regex"], normalized) == case["pretokens"]
