"""Tests of the LLaVA caption tool's command line and input checks.

They run without a GPU and without transformers: --help, invalid inputs, the missing-CUDA and
missing-transformers exits. The end-to-end run of --tiny-random on CPU needs transformers and is
skipped where it is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from models.llava import postprocess, run_config  # noqa: E402
from models.llava.run_config import InputError  # noqa: E402

HAS_TRANSFORMERS = importlib.util.find_spec("transformers") is not None


def run_tool(*arguments: str, hide_gpu: bool = True) -> subprocess.CompletedProcess:
    environment = dict(os.environ)
    if hide_gpu:
        environment["CUDA_VISIBLE_DEVICES"] = ""  # the no-CUDA path must not depend on the machine
    return subprocess.run(
        [sys.executable, "-m", "models.llava.caption_attention", *arguments],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(folder / "000000000139.jpg")
    Image.new("RGB", (48, 64), (30, 30, 200)).save(folder / "000000000285.png")
    (folder / "notes.txt").write_text("not an image")
    return folder


# --- command line -------------------------------------------------------------------------------


def test_help_lists_options_with_units():
    result = run_tool("--help")

    assert result.returncode == 0, result.stderr
    for text in ("--images", "--instruction", "--config", "--tiny-random", "--device", "--layers", "--no-attention", "fp16", "max_new_tokens (default 30)"):
        assert text in result.stdout, f"--help does not mention {text!r}"


def test_help_works_from_file_path():
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "models" / "llava" / "caption_attention.py"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_invalid_config_exits_2(image_folder, tmp_path):
    result = run_tool("--images", str(image_folder), "--output-dir", str(tmp_path / "out"), "--config", '{"num_beam": 5}')

    assert result.returncode == 2
    assert "unknown option 'num_beam'" in result.stderr


def test_missing_cuda_exits_3(image_folder, tmp_path):
    result = run_tool("--images", str(image_folder), "--output-dir", str(tmp_path / "out"))

    assert result.returncode == 3
    assert "CUDA is not available" in result.stderr
    assert "--device cpu" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(HAS_TRANSFORMERS, reason="transformers is installed, so the tool would go on to load a model")
def test_missing_transformers_exits_3(image_folder, tmp_path):
    result = run_tool("--images", str(image_folder), "--output-dir", str(tmp_path / "out"), "--tiny-random", "--device", "cpu")

    assert result.returncode == 3
    assert "transformers is not installed" in result.stderr


# NOTE: never run here (no transformers on this machine); it is the pipeline check for a GPU
# machine or any environment with transformers >= 4.47 installed.
@pytest.mark.skipif(not HAS_TRANSFORMERS, reason="needs transformers")
def test_tiny_random_end_to_end_on_cpu(image_folder, tmp_path):
    output = tmp_path / "out"
    result = run_tool(
        "--images", str(image_folder),
        "--output-dir", str(output),
        "--tiny-random",
        "--device", "cpu",
        "--config", '{"name": "greedy", "max_new_tokens": 5}',
        "--config", '{"name": "beam3", "num_beams": 3, "num_return_sequences": 2, "max_new_tokens": 5}',
    )

    assert result.returncode == 0, result.stderr
    manifest = json.loads((output / "runs.json").read_text(encoding="utf-8"))
    assert [run["id"] for run in manifest["runs"]] == ["greedy-i0", "beam3-i0"]
    for run in manifest["runs"]:
        predictions = json.loads((output / run["predictions"]).read_text(encoding="utf-8"))
        assert set(predictions) == {"000000000139", "000000000285"}
        documents = json.loads((output / run["attention"]).read_text(encoding="utf-8"))
        assert len(documents) == 2
        for document in documents:
            postprocess.validate_attention_document(document)
            assert document["grid"] == {"rows": 24, "cols": 24}
            assert document["sink_removed"] is True


# --- generation configs -------------------------------------------------------------------------


def test_configs_default_to_greedy():
    configs = run_config.load_generation_configs(None)

    assert configs == [{"name": "greedy", "max_new_tokens": 30, "do_sample": False, "num_beams": 1}]


def test_configs_from_file_and_inline(tmp_path):
    file = tmp_path / "configs.json"
    file.write_text(json.dumps([{"name": "beam5", "num_beams": 5}, {"do_sample": True, "top_p": 0.9, "seed": 3}]))

    configs = run_config.load_generation_configs([str(file), '{"name": "short", "max_new_tokens": 12}'])

    assert [config["name"] for config in configs] == ["beam5", "c1", "short"]
    assert configs[0]["max_new_tokens"] == 30
    assert configs[2]["max_new_tokens"] == 12
    assert run_config.generate_arguments(configs[1]) == {"max_new_tokens": 30, "do_sample": True, "top_p": 0.9}


@pytest.mark.parametrize(
    "source, message",
    [
        ('{"num_beams": 0}', "num_beams=0 is invalid"),
        ('{"num_beams": 2.0}', "num_beams=2.0 is invalid"),
        ('{"do_sample": 1}', "do_sample=1 is invalid"),
        ('{"temperature": 0.7}', "only apply with"),
        ('{"num_beams": 2, "num_return_sequences": 3}', "exceeds num_beams=2"),
        ('{"name": "a b"}', "name='a b' is invalid"),
        ('[{"name": "x"}, {"name": "x"}]', "repeated: x"),
        ("{not json", "not valid JSON"),
        ("missing.json", "neither inline JSON nor an existing file"),
    ],
)
def test_configs_rejected_with_reason(source, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(".", r"\.")):
        run_config.load_generation_configs([source])


def test_strategy_names():
    assert run_config.decoding_strategy({}) == "greedy"
    assert run_config.decoding_strategy({"do_sample": True}) == "sample"
    assert run_config.decoding_strategy({"num_beams": 5}) == "beam"
    assert run_config.decoding_strategy({"num_beams": 5, "do_sample": True}) == "beam-sample"


# --- instructions, images, layers ---------------------------------------------------------------


def test_instructions_default_and_file(tmp_path):
    file = tmp_path / "instructions.txt"
    file.write_text("# homework\nDescribe this image.\n\nWhat is in the picture?\n")

    assert run_config.load_instructions(None, None) == [run_config.DEFAULT_INSTRUCTION]
    assert run_config.load_instructions(["Caption it."], str(file)) == ["Caption it.", "Describe this image.", "What is in the picture?"]
    with pytest.raises(InputError, match="must not contain '<image>'"):
        run_config.load_instructions(["<image> caption"], None)


def test_images_sorted_and_limited(image_folder):
    images = run_config.list_images(str(image_folder))

    assert [path.name for path in images] == ["000000000139.jpg", "000000000285.png"]
    assert [path.name for path in run_config.list_images(str(image_folder), limit=1)] == ["000000000139.jpg"]


def test_images_with_same_stem_rejected(image_folder):
    Image.new("RGB", (8, 8)).save(image_folder / "000000000139.png")

    with pytest.raises(InputError, match="share a name without extension.*: 000000000139"):
        run_config.list_images(str(image_folder))


def test_images_missing_folder(tmp_path):
    with pytest.raises(InputError, match="not found"):
        run_config.list_images(str(tmp_path / "nowhere"))


def test_layers_parsed():
    assert run_config.parse_layers("all") is None
    assert run_config.parse_layers("0-3,8, 2") == [0, 1, 2, 3, 8]
    with pytest.raises(InputError, match="runs backwards"):
        run_config.parse_layers("5-2")
    with pytest.raises(InputError, match="is invalid"):
        run_config.parse_layers("first")


# --- generation glue with a stub model ----------------------------------------------------------
# The stub returns generate() outputs in the layout transformers documents (per-step tuples of
# per-layer attention, flat beam_indices). It checks the tool's own indexing, not transformers.

torch = pytest.importorskip("torch")

from types import SimpleNamespace  # noqa: E402

from models.llava import caption_attention  # noqa: E402

IMAGE_TOKEN = 32000
PREFIX = [1, 3148, 1001, 29901]
SUFFIX = [13, 4002, 319, 1799, 29901]
PROMPT = PREFIX + [IMAGE_TOKEN] * 576 + SUFFIX
WORDS = {100: "a", 101: " red", 102: " kite", 103: " bird", 2: "", 0: ""}


class StubTokenizer:
    bos_token_id, eos_token_id, pad_token_id = 1, 2, 0

    def decode(self, ids, skip_special_tokens=True):
        return "".join(WORDS[int(token)] for token in ids)


class StubProcessor:
    tokenizer = StubTokenizer()
    image_processor = SimpleNamespace(size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336}, do_center_crop=True)

    def __call__(self, images, text, return_tensors):
        assert text == "USER: <image>\nCaption it. ASSISTANT:"
        return {"input_ids": torch.tensor([PROMPT]), "pixel_values": torch.zeros(1, 3, 336, 336)}


def peaked_rows(rows: int, keys: int, peaks: list[int]) -> "torch.Tensor":
    """(rows, heads=2, query=3, keys): the last query of row r puts 0.5 on patch peaks[r], 0.3 on BOS."""
    attention = torch.full((rows, 2, 3, keys), 0.2 / (keys - 2))
    for row, patch in enumerate(peaks):
        attention[row, :, -1, 0] = 0.3
        attention[row, :, -1, len(PREFIX) + patch] = 0.5
    return attention


class StubModel:
    config = SimpleNamespace(image_token_index=IMAGE_TOKEN, text_config=SimpleNamespace(num_hidden_layers=2))
    generation_config = SimpleNamespace(eos_token_id=2)
    device = torch.device("cpu")
    dtype = torch.float32

    def generate(self, **arguments):
        assert arguments["output_attentions"] and arguments["return_dict_in_generate"]
        assert arguments["suppress_tokens"] == [IMAGE_TOKEN]
        generated = torch.tensor([[100, 101, 102, 2], [100, 101, 103, 2]])
        keys = len(PROMPT)
        # Step t: beam row 0 looks at patch 10 + t, beam row 1 at patch 300 + t.
        attentions = tuple(
            tuple(peaked_rows(2, keys + step, [10 + step, 300 + step]) for _ in range(2)) for step in range(4)
        )
        return SimpleNamespace(
            sequences=torch.cat([torch.tensor([PROMPT, PROMPT]), generated], dim=1),
            sequences_scores=torch.tensor([-1.5, -2.5]),
            scores=tuple(torch.zeros(2, 200) for _ in range(4)),
            attentions=attentions,
            beam_indices=torch.tensor([[0, 1, 1, 0], [0, 0, 1, 1]]),
        )


def test_caption_glue_follows_beam_indices(tmp_path):
    image_path = tmp_path / "000000000139.jpg"
    Image.new("RGB", (640, 426), (10, 20, 30)).save(image_path)
    config = {"name": "beam2", "num_beams": 2, "num_return_sequences": 2, "max_new_tokens": 4}

    caption, document = caption_attention.caption_one_image(
        StubModel(), StubProcessor(), image_path, "Caption it.", config, None, True, {"id": "stub", "sha256": None}
    )

    assert caption == "a red kite"
    postprocess.validate_attention_document(document)
    assert document["config"]["strategy"] == "beam"
    assert document["crop"] == {"left": 107, "top": 0, "width": 427, "height": 426}
    assert document["layers"] == [0, 1]
    best, second = document["hypotheses"]
    assert [token["text"] for token in best["tokens"]] == ["a", " red", " kite"]
    assert best["score"] == -1.5
    peaks = [max(range(576), key=token["attention"].__getitem__) for token in best["tokens"]]
    assert peaks == [10, 300 + 1, 300 + 2], "token rows must follow beam_indices [0, 1, 1]"
    peaks = [max(range(576), key=token["attention"].__getitem__) for token in second["tokens"]]
    assert peaks == [10, 10 + 1, 300 + 2], "token rows must follow beam_indices [0, 0, 1]"
    assert best["tokens"][0]["image_mass"] == pytest.approx((0.5 + 575 * 0.2 / (len(PROMPT) - 2)) / 0.7, rel=1e-4)


class StubSamplingModel(StubModel):
    def generate(self, **arguments):
        outputs = super().generate(**arguments)
        # Sample 0 ends after 2 tokens and pads; sample 1 runs to max_new_tokens.
        outputs.sequences[0, -4:] = torch.tensor([100, 2, 0, 0])
        outputs.sequences[1, -4:] = torch.tensor([100, 101, 103, 101])
        del outputs.sequences_scores, outputs.beam_indices
        return outputs

    def compute_transition_scores(self, sequences, scores, normalize_logits):
        assert normalize_logits
        return torch.tensor([[-0.5, -0.25, -9.0, -9.0], [-0.1, -0.2, -0.3, -0.4]])


def test_caption_glue_ranks_samples_by_log_probability(tmp_path):
    image_path = tmp_path / "000000000285.png"
    Image.new("RGB", (48, 64)).save(image_path)
    config = {"name": "sample", "do_sample": True, "num_return_sequences": 2, "max_new_tokens": 4}

    caption, document = caption_attention.caption_one_image(
        StubSamplingModel(), StubProcessor(), image_path, "Caption it.", config, [1], True, {"id": "stub", "sha256": None}
    )

    # Sample 0 scores -0.5 - 0.25 (its end token counts, the padding does not); sample 1 scores -1.0.
    assert caption == "a"
    first, second = document["hypotheses"]
    assert first["score"] == -0.75
    assert second["score"] == pytest.approx(-1.0)
    assert second["caption"] == "a red bird red"
    assert document["layers"] == [1]
    assert document["config"]["strategy"] == "sample"
    # Row 1 of every step belongs to sample 1: patches 300, 301, 302, 303.
    assert [max(range(576), key=token["attention"].__getitem__) for token in second["tokens"]] == [300, 301, 302, 303]
