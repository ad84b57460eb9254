"""GPT-2 and CLIP tokenizers against the ids of OpenAI's reference tokenizers."""

import json

import pytest

from edgecap_models.bpe import DEFAULT_VOCAB_DIR, CLIPTokenizer, GPT2Tokenizer, bytes_to_unicode
from edgecap_models.clip_text_fixes import fix_text

GOLDEN_DIR = DEFAULT_VOCAB_DIR.parent / "golden" / "tokenizers"

pytestmark = pytest.mark.skipif(
    not (DEFAULT_VOCAB_DIR.exists() and GOLDEN_DIR.exists()),
    reason="vocabularies and golden ids are read from the folder `shared` beside the checkout",
)


def _golden(name):
    path = GOLDEN_DIR / name
    return json.loads(path.read_text()) if path.exists() else {"cases": [], "decode_cases": []}


GPT2_GOLDEN = _golden("gpt2_cases.json")
CLIP_GOLDEN = _golden("clip_cases.json")


@pytest.fixture(scope="module")
def gpt2():
    return GPT2Tokenizer.from_vocab_dir()


@pytest.fixture(scope="module")
def clip():
    return CLIPTokenizer.from_vocab_dir()


def test_bytes_to_unicode_is_bijective():
    mapping = bytes_to_unicode()
    assert len(mapping) == 256
    assert len(set(mapping.values())) == 256
    assert mapping[ord(" ")] == "\u0120"
    assert mapping[ord("\n")] == "\u010a"
    assert mapping[ord("a")] == "a"


def test_gpt2_vocabulary_size(gpt2):
    assert gpt2.vocab_size == 50257
    assert len(gpt2.bpe.ranks) == 50000
    assert gpt2.encoder["<|endoftext|>"] == 50256


@pytest.mark.parametrize("case", GPT2_GOLDEN["cases"], ids=lambda case: case["id"])
def test_gpt2_golden_case(gpt2, case):
    assert gpt2.pretokenize(case["text"]) == case["pretokens"]
    ids = gpt2.encode(case["text"])
    assert ids == case["ids"]
    assert [gpt2.token_bytes(i).hex() for i in ids] == case["token_bytes_hex"]
    assert gpt2.decode(ids) == case["decoded"]


@pytest.mark.parametrize("case", GPT2_GOLDEN["decode_cases"], ids=lambda case: str(case["ids"])[:40])
def test_gpt2_golden_decode(gpt2, case):
    assert gpt2.decode(case["ids"]) == case["decoded"]


def test_gpt2_end_of_text_is_plain_text(gpt2):
    assert gpt2.encode("<|endoftext|>") == [27, 91, 437, 1659, 5239, 91, 29]
    assert gpt2.decode([50256]) == "<|endoftext|>"


def test_gpt2_rejects_unknown_id(gpt2):
    with pytest.raises(ValueError, match="token id 50257 is out of range"):
        gpt2.decode([50257])


def test_clip_vocabulary_size(clip):
    assert clip.vocab_size == 49408
    assert clip.encoder["<|startoftext|>"] == 49406
    assert clip.encoder["<|endoftext|>"] == 49407
    assert clip.encoder["a</w>"] == 320


@pytest.mark.parametrize("case", CLIP_GOLDEN["cases"], ids=lambda case: case["id"])
def test_clip_golden_case(clip, case):
    assert fix_text(case["text"]) == case["ftfy_fixed"]
    assert clip.clean(case["text"]) == case["cleaned"]
    assert clip.pretokenize(case["text"]) == case["pretokens"]
    ids = clip.encode(case["text"])
    assert ids == case["bpe_ids"]
    assert clip.tokenize(case["text"]) == case["tokenize_77"]
    assert clip.decode(ids) == case["decoded"]


@pytest.mark.parametrize("case", CLIP_GOLDEN["decode_cases"], ids=lambda case: str(case["ids"])[:40])
def test_clip_golden_decode(clip, case):
    assert clip.decode(case["ids"]) == case["decoded"]


def test_clip_truncation_keeps_end_token(clip):
    ids = clip.tokenize("cat " * 100)
    assert len(ids) == 77
    assert ids[0] == 49406
    assert ids[-1] == 49407
    assert ids[-2] == clip.encoder["cat</w>"]


def test_clip_without_truncation_raises(clip):
    with pytest.raises(ValueError, match="more than the context length 77"):
        clip.tokenize("cat " * 100, truncate=False)


def test_clip_exact_fit_has_no_padding(clip):
    ids = clip.tokenize("cat " * 75)
    assert ids.count(clip.encoder["cat</w>"]) == 75
    assert ids[-1] == 49407


def test_clip_rejects_short_merge_list():
    with pytest.raises(ValueError, match="CLIP needs 48894 merges, got 2"):
        CLIPTokenizer([("a", "b"), ("c", "d")])


def test_golden_files_have_cases():
    assert len(GPT2_GOLDEN["cases"]) > 0
    assert len(CLIP_GOLDEN["cases"]) > 0
