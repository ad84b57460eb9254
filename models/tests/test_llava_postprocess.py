"""Tests of the LLaVA attention post-processing on synthetic attention tensors (CPU, numpy only).

The last test also writes the sample output under test/fixtures/llava/ that the experiment
runner's importer reads: a manifest, a predictions file and one attention dump, all built from
synthetic tensors and labelled "synthetic-llava-fixture".
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from models.llava import postprocess, run_output  # noqa: E402
from models.llava.postprocess import ImageSpan  # noqa: E402

GRID = postprocess.LLAVA15_GRID
CELLS = GRID[0] * GRID[1]
IMAGE_TOKEN = 32000
FIXTURE_DIR = REPO_ROOT / "test" / "fixtures" / "llava"

# A LLaVA-1.5-shaped prompt: BOS, "USER:" pieces, 576 image tokens, then the instruction.
PROMPT_PREFIX = [1, 3148, 1001, 29901]
PROMPT_SUFFIX = [13, 4002, 29581, 445, 1967, 29889, 319, 1799, 9047, 13566, 29901]
SPAN = ImageSpan(len(PROMPT_PREFIX), len(PROMPT_PREFIX) + CELLS)
PROMPT_LENGTH = len(PROMPT_PREFIX) + CELLS + len(PROMPT_SUFFIX)


def prompt_ids() -> list[int]:
    return PROMPT_PREFIX + [IMAGE_TOKEN] * CELLS + PROMPT_SUFFIX


def patch_position(row: int, col: int) -> int:
    """Key position of patch (row, col) in the synthetic prompt."""
    return SPAN.start + row * GRID[1] + col


def attention_row(keys: int, sink: float, image: float, peak: tuple[int, int]) -> np.ndarray:
    """One softmax-like row: `sink` on BOS, `image` on the image (half on `peak`), the rest on text."""
    row = np.zeros(keys)
    row[0] = sink
    row[SPAN.start : SPAN.stop] = image * 0.5 / (CELLS - 1)
    row[patch_position(*peak)] = image * 0.5
    text_positions = [position for position in range(1, keys) if not SPAN.start <= position < SPAN.stop]
    row[text_positions] = (1.0 - sink - image) / len(text_positions)
    return row


# --- image span ---------------------------------------------------------------------------------


def test_span_found_after_prefix():
    span = postprocess.locate_image_span(prompt_ids(), IMAGE_TOKEN, GRID)

    assert span == SPAN
    assert span.stop - span.start == 576


def test_span_missing_image_token():
    with pytest.raises(ValueError, match="image token id 32000 not found"):
        postprocess.locate_image_span(PROMPT_PREFIX + PROMPT_SUFFIX, IMAGE_TOKEN, GRID)


def test_span_wrong_count():
    ids = PROMPT_PREFIX + [IMAGE_TOKEN] * 575 + PROMPT_SUFFIX

    with pytest.raises(ValueError, match="found 575 image tokens .* needs 576"):
        postprocess.locate_image_span(ids, IMAGE_TOKEN, GRID)


def test_span_unexpanded_processor():
    ids = PROMPT_PREFIX + [IMAGE_TOKEN] + PROMPT_SUFFIX

    with pytest.raises(ValueError, match="did not expand"):
        postprocess.locate_image_span(ids, IMAGE_TOKEN, GRID)


def test_span_split_by_text():
    ids = PROMPT_PREFIX + [IMAGE_TOKEN] * 300 + [13] + [IMAGE_TOKEN] * 276 + PROMPT_SUFFIX

    with pytest.raises(ValueError, match="not contiguous"):
        postprocess.locate_image_span(ids, IMAGE_TOKEN, GRID)


# --- sink removal -------------------------------------------------------------------------------


def test_sink_removal_renormalises_mass():
    row = attention_row(PROMPT_LENGTH, sink=0.5, image=0.3, peak=(3, 4))

    kept_attention, kept_mass = postprocess.image_attention_grid(row, SPAN, GRID)
    removed_attention, removed_mass = postprocess.image_attention_grid(postprocess.remove_attention_sink(row), SPAN, GRID)

    assert kept_mass == pytest.approx(0.3)
    assert removed_mass == pytest.approx(0.3 / (1 - 0.5))
    np.testing.assert_allclose(removed_attention, kept_attention)
    assert removed_attention.sum() == pytest.approx(1.0)


def test_sink_removal_zeroes_only_sink():
    row = attention_row(PROMPT_LENGTH, sink=0.5, image=0.3, peak=(0, 0))

    removed = postprocess.remove_attention_sink(row)

    assert removed[0] == 0.0
    np.testing.assert_array_equal(removed[1:], row[1:])
    assert row[0] == 0.5, "the input must not be modified"


def test_sink_removal_commutes_with_averaging():
    generator = np.random.default_rng(7)
    rows = generator.dirichlet(np.ones(40), size=(3, 4))  # (layers, heads, keys)

    averaged_then_removed = postprocess.remove_attention_sink(postprocess.average_heads_and_layers(rows))
    removed_then_averaged = postprocess.average_heads_and_layers(postprocess.remove_attention_sink(rows))

    np.testing.assert_allclose(averaged_then_removed, removed_then_averaged)


def test_image_mass_zero_gives_zero_map():
    row = np.zeros(PROMPT_LENGTH)
    row[0] = 0.9
    row[-1] = 0.1

    attention, mass = postprocess.image_attention_grid(postprocess.remove_attention_sink(row), SPAN, GRID)

    assert mass == 0.0
    assert attention.shape == GRID
    assert not attention.any()


# --- head and layer averaging -------------------------------------------------------------------


def test_average_over_all_heads_and_layers():
    rows = np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5)

    averaged = postprocess.average_heads_and_layers(rows)

    np.testing.assert_allclose(averaged, rows.reshape(6, 5).mean(axis=0))


def test_average_over_selected_layers():
    rows = np.stack([np.full((2, 4), 1.0), np.full((2, 4), 5.0), np.full((2, 4), 9.0)])
    rows[2, 1] = 11.0  # heads of layer 2 differ: mean 10

    np.testing.assert_allclose(postprocess.average_heads_and_layers(rows, [1]), np.full(4, 5.0))
    np.testing.assert_allclose(postprocess.average_heads_and_layers(rows, [0, 2]), np.full(4, (1.0 + 10.0) / 2))


def test_average_rejects_bad_layers():
    rows = np.ones((2, 3, 5))

    with pytest.raises(ValueError, match=r"layer indices \[2\] are out of range"):
        postprocess.average_heads_and_layers(rows, [0, 2])
    with pytest.raises(ValueError, match="layer selection is empty"):
        postprocess.average_heads_and_layers(rows, [])
    with pytest.raises(ValueError, match="shaped"):
        postprocess.average_heads_and_layers(np.ones((3, 5)))


# --- reshape orientation ------------------------------------------------------------------------


@pytest.mark.parametrize("peak", [(0, 0), (0, 23), (23, 0), (5, 17), (17, 5), (23, 23)])
def test_peak_lands_at_grid_row_col(peak):
    row = attention_row(PROMPT_LENGTH, sink=0.3, image=0.6, peak=peak)

    attention, _ = postprocess.image_attention_grid(postprocess.remove_attention_sink(row), SPAN, GRID)

    assert attention.shape == (24, 24)
    assert np.unravel_index(np.argmax(attention), attention.shape) == peak
    if peak[0] != peak[1]:
        assert attention[peak[1], peak[0]] < attention[peak]


def test_grid_rejects_span_past_row():
    with pytest.raises(ValueError, match="runs past"):
        postprocess.image_attention_grid(np.ones(100), SPAN, GRID)


# --- beam path ----------------------------------------------------------------------------------


def beam_step_attentions(steps: int, peaks: dict[tuple[int, int], tuple[int, int]]) -> list[list[np.ndarray]]:
    """Attention for 2 beams, 2 layers, 2 heads; beam row b at step t peaks at peaks[(t, b)]."""
    result = []
    for step in range(steps):
        keys = PROMPT_LENGTH + step
        beams = np.stack([attention_row(keys, 0.4, 0.5, peaks[(step, beam)]) for beam in range(2)])  # (beams, keys)
        heads = np.repeat(beams[:, None, :], 2, axis=1)  # (beams, heads, keys)
        result.append([heads.copy(), heads.copy()])  # one array per layer
    return result


def test_beam_path_follows_chosen_rows():
    peaks = {(0, 0): (1, 1), (0, 1): (2, 2), (1, 0): (3, 3), (1, 1): (4, 4), (2, 0): (5, 5), (2, 1): (6, 6)}
    steps = beam_step_attentions(3, peaks)

    path = postprocess.follow_beam_path([1, 0, 1, -1], length=3, batch_rows=2)
    maps = postprocess.token_attention_maps(steps, path, SPAN, GRID)

    assert path == [1, 0, 1]
    peaks_found = [np.unravel_index(np.argmax(attention), attention.shape) for attention, _ in maps]
    assert peaks_found == [(2, 2), (3, 3), (6, 6)]


def test_beam_path_rejects_padding_inside():
    with pytest.raises(ValueError, match=r"\(step, row\): \[\(1, -1\)\]"):
        postprocess.follow_beam_path([0, -1, 1], length=3, batch_rows=2)


def test_beam_path_rejects_out_of_range_row():
    with pytest.raises(ValueError, match="outside 0..1"):
        postprocess.follow_beam_path([0, 2], length=2, batch_rows=2)


def test_beam_path_rejects_short_indices():
    with pytest.raises(ValueError, match="covers 2 steps but the hypothesis has 3"):
        postprocess.follow_beam_path([0, 1], length=3, batch_rows=2)


def test_maps_reject_missing_steps():
    steps = beam_step_attentions(1, {(0, 0): (0, 0), (0, 1): (0, 0)})

    with pytest.raises(ValueError, match="only 1 steps"):
        postprocess.token_attention_maps(steps, [0, 0], SPAN, GRID)


# --- tokens -------------------------------------------------------------------------------------


def byte_decode(ids: list[int]) -> str:
    return bytes(ids).decode("utf-8", errors="replace")


def test_trim_stops_at_first_end_token():
    assert postprocess.trim_at_end_token([5, 6, 2, 7, 0], [2]) == [5, 6]
    assert postprocess.trim_at_end_token([5, 6], [2]) == [5, 6]
    assert postprocess.trim_at_end_token([2, 5], [2, 9]) == []


def test_display_texts_ascii():
    ids = list("a cat".encode())

    assert postprocess.token_display_texts(ids, byte_decode) == ["a", " ", "c", "a", "t"]


def test_display_texts_join_multibyte_character():
    ids = list("café ☕".encode())  # é is 2 bytes, ☕ is 3 bytes

    texts = postprocess.token_display_texts(ids, byte_decode)

    assert texts == ["c", "a", "f", "é", "", " ", "☕", "", ""]
    assert "".join(texts) == "café ☕"


def test_display_texts_unfinished_character_at_end():
    ids = list("ok".encode()) + list("☕".encode())[:2]

    texts = postprocess.token_display_texts(ids, byte_decode)

    assert texts == ["o", "k", "\ufffd", ""]


# --- crop and rounding --------------------------------------------------------------------------


def test_crop_landscape_keeps_centre_square():
    # 640x426 -> 504x336 -> crop x 84..420 -> original x 106.7..533.3
    assert postprocess.center_crop_region(640, 426, 336, 336, 336) == {"left": 107, "top": 0, "width": 427, "height": 426}


def test_crop_portrait_keeps_centre_square():
    assert postprocess.center_crop_region(480, 640, 336, 336, 336) == {"left": 0, "top": 80, "width": 480, "height": 480}


def test_crop_exact_size_keeps_everything():
    assert postprocess.center_crop_region(336, 336, 336, 336, 336) == {"left": 0, "top": 0, "width": 336, "height": 336}


def test_round_significant():
    assert postprocess.round_significant(0.123456789) == 0.123457
    assert postprocess.round_significant(1.23456789e-7) == 1.23457e-7
    assert postprocess.round_significant(0.0) == 0.0
    with pytest.raises(ValueError, match="finite"):
        postprocess.round_significant(float("nan"))


# --- schema documents ---------------------------------------------------------------------------

# Synthetic decoding: ids 100.. are words, 2 is the end token.
WORDS = {100: "a", 101: " red", 102: " kite", 103: " over", 104: " the", 105: " beach", 106: " bird", 2: ""}


def word_decode(ids: list[int]) -> str:
    return "".join(WORDS[token] for token in ids)


def synthetic_document() -> dict:
    """A 2-beam search over a synthetic prompt, run through the same functions as the tool."""
    # Best hypothesis: "a red kite over the beach"; second: "a red bird over the beach".
    generated = [[100, 101, 102, 103, 104, 105, 2], [100, 101, 106, 103, 104, 105, 2]]
    beam_indices = [[0, 0, 1, 1, 0, 1, 1], [0, 1, 0, 0, 1, 0, 0]]
    scores = [-3.2104, -4.87719]
    steps = len(generated[0])

    # Beam row b at step t looks at a patch that moves with t, so a mixed-up path shows.
    peaks = {(step, beam): (2 + 3 * step, 4 + 12 * beam + step) for step in range(steps) for beam in range(2)}
    step_attentions = beam_step_attentions(steps, peaks)

    hypotheses = []
    for rank, (sequence, indices, score) in enumerate(zip(generated, beam_indices, scores)):
        token_ids = postprocess.trim_at_end_token(sequence, [2])
        path = postprocess.follow_beam_path(indices, len(token_ids), batch_rows=2)
        maps = postprocess.token_attention_maps(step_attentions, path, SPAN, GRID, layers=None, remove_sink=True)
        texts = postprocess.token_display_texts(token_ids, word_decode)
        caption = word_decode(token_ids)
        hypotheses.append(postprocess.build_hypothesis(rank, caption, score, token_ids, texts, maps))

    return postprocess.build_attention_document(
        model={"id": "synthetic-llava-fixture", "sha256": None, "revision": None},
        image={"id": "synthetic-000001", "width": 640, "height": 480, "sha256": None},
        config={"strategy": "beam", "name": "beam2", "num_beams": 2, "num_return_sequences": 2, "max_new_tokens": 30, "instruction": "Describe this image using one or more simple sentences."},
        grid=GRID,
        crop=postprocess.center_crop_region(640, 480, 336, 336, 336),
        layers=[0, 1],
        sink_removed=True,
        hypotheses=hypotheses,
    )


def test_document_is_valid_and_follows_paths():
    document = synthetic_document()

    postprocess.validate_attention_document(json.loads(json.dumps(document)))
    assert document["schema"] == "edgecap.attention/v1"
    assert document["model"]["family"] == "llava"
    assert document["grid"] == {"rows": 24, "cols": 24}
    assert document["crop"] == {"left": 80, "top": 0, "width": 480, "height": 480}

    best = document["hypotheses"][0]
    assert best["caption"] == "a red kite over the beach"
    assert [token["text"] for token in best["tokens"]] == ["a", " red", " kite", " over", " the", " beach"]
    for token, beam in zip(best["tokens"], [0, 0, 1, 1, 0, 1]):
        step = token["index"]
        peak = np.unravel_index(np.argmax(token["attention"]), GRID)
        assert peak == (2 + 3 * step, 4 + 12 * beam + step), f"token {step} took a row from the wrong beam"
        assert token["image_mass"] == pytest.approx(0.5 / 0.6, rel=1e-5)
        assert sum(token["attention"]) == pytest.approx(1.0, abs=1e-4)


INVALID_EDITS = [
    ("schema", lambda document: document.update(schema="edgecap.attention/v2")),
    ("model.family", lambda document: document["model"].update(family="blip")),
    ("grid.rows", lambda document: document["grid"].update(rows=0)),
    ("hypotheses[1].rank", lambda document: document["hypotheses"][1].update(rank=0)),
    ("tokens[0].attention", lambda document: document["hypotheses"][0]["tokens"][0]["attention"].pop()),
    ("tokens[1].attention", lambda document: document["hypotheses"][0]["tokens"][1]["attention"].__setitem__(0, 0.5)),
    ("tokens[2].image_mass", lambda document: document["hypotheses"][0]["tokens"][2].update(image_mass=1.5)),
    ("tokens[3].attention", lambda document: document["hypotheses"][0]["tokens"][3].update(image_mass=0.0)),
    ("tokens[4].index", lambda document: document["hypotheses"][0]["tokens"][4].update(index=9)),
    ("sink_removed", lambda document: document.update(sink_removed="yes")),
]


@pytest.mark.parametrize("field, edit", INVALID_EDITS, ids=[field for field, _ in INVALID_EDITS])
def test_document_validation_names_field(field, edit):
    document = copy.deepcopy(synthetic_document())
    edit(document)

    with pytest.raises(ValueError, match=f"invalid at [^:]*{re.escape(field)}:"):
        postprocess.validate_attention_document(document)


# --- sample output for the experiment runner ----------------------------------------------------


def write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_fixture_written_in_tool_layout():
    document = synthetic_document()
    run = run_output.run_id(document["config"]["name"], 0)
    predictions = {"synthetic-000001": document["hypotheses"][0]["caption"], "synthetic-000002": "a dog on a red sofa"}
    manifest = run_output.build_manifest(
        model=document["model"],
        environment={"synthetic": True, "note": "built by models/tests/test_llava_postprocess.py from synthetic tensors; no model ran"},
        grid=GRID,
        layers=document["layers"],
        sink_removed=True,
        runs=[
            {
                "id": run,
                "instruction": document["config"]["instruction"],
                "config": {key: value for key, value in document["config"].items() if key not in ("strategy", "instruction")},
                "images": 2,
                "predictions": run_output.predictions_path(run),
                "attention": run_output.attention_path(run),
            }
        ],
    )

    write_if_changed(FIXTURE_DIR / run_output.MANIFEST_NAME, run_output.format_json(manifest))
    write_if_changed(FIXTURE_DIR / run_output.predictions_path(run), run_output.format_json(predictions))
    write_if_changed(FIXTURE_DIR / run_output.attention_path(run), run_output.format_json([document], compact=True))

    written = json.loads((FIXTURE_DIR / run_output.MANIFEST_NAME).read_text(encoding="utf-8"))
    entry = written["runs"][0]
    assert written["model"]["id"] == "synthetic-llava-fixture"
    assert json.loads((FIXTURE_DIR / entry["predictions"]).read_text(encoding="utf-8")) == predictions
    dumps = json.loads((FIXTURE_DIR / entry["attention"]).read_text(encoding="utf-8"))
    assert len(dumps) == 1
    postprocess.validate_attention_document(dumps[0])
