"""Tests of the demo domain generator: determinism, ground truth, captions, labels and files."""

import json
import math
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgecap_models.domain import (
    COLORS,
    CUTOUT_KIND_CLASS,
    DEFAULT_COCO_DIR,
    KINDS,
    SPLITS,
    WORDS,
    ObjectSpec,
    generate_scene,
    load_cutouts,
    patch_labels,
    patch_object_map,
    scene_labels,
    word_to_object,
    write_split,
)
from edgecap_models.domain.__main__ import main as domain_main
from edgecap_models.domain.scene import MAX_BOX_OVERLAP, _overlap_share

GOLDEN_METRICS = Path(__file__).resolve().parents[2].parent / "shared" / "golden" / "metrics" / "large_corpus_500.json"


@pytest.fixture(scope="module")
def test_scenes():
    return [generate_scene("test", index) for index in range(SPLITS["test"].size)]


def test_scene_is_deterministic():
    first = generate_scene("train", 41)
    second = generate_scene("train", 41)
    assert np.array_equal(first.image, second.image)
    assert first.captions == second.captions
    assert first.objects == second.objects


def test_scene_independent_of_generation_order():
    after_others = [generate_scene("val", index) for index in (5, 3, 9)][1]
    alone = generate_scene("val", 3)
    assert np.array_equal(after_others.image, alone.image)
    assert after_others.captions == alone.captions


def test_splits_use_different_seeds():
    seeds = {spec.seed for spec in SPLITS.values()}
    assert len(seeds) == len(SPLITS)
    assert not np.array_equal(generate_scene("train", 0).image, generate_scene("test", 0).image)


def test_split_sizes_and_ids():
    assert SPLITS["train"].size == 6000
    assert SPLITS["val"].size == 300
    assert SPLITS["test"].size == 300
    scene = generate_scene("test", 123)
    assert scene.file_name == "demo_test_000123.png"
    assert scene.image_id == SPLITS["test"].id_offset + 123


def test_unknown_split_rejected():
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        generate_scene("dev", 0)


def test_negative_index_rejected():
    with pytest.raises(ValueError, match="index must be >= 0"):
        generate_scene("train", -1)


def test_image_shape_and_object_count(test_scenes):
    counts = Counter(len(scene.objects) for scene in test_scenes)
    for scene in test_scenes:
        assert scene.image.shape == (128, 128, 3)
        assert scene.image.dtype == np.uint8
        assert 1 <= len(scene.objects) <= 3
    assert set(counts) == {1, 2, 3}


def test_boxes_inside_image_and_barely_overlap(test_scenes):
    for scene in test_scenes:
        for spec in scene.objects:
            x, y, w, h = spec.box
            assert x >= 0
            assert y >= 0
            assert w > 0
            assert h > 0
            assert x + w <= 128
            assert y + h <= 128
        for i, a in enumerate(scene.objects):
            for b in scene.objects[i + 1 :]:
                assert _overlap_share(a.box, b.box) <= MAX_BOX_OVERLAP


def test_object_map_lies_inside_boxes(test_scenes):
    for scene in test_scenes:
        for index, spec in enumerate(scene.objects):
            ys, xs = np.nonzero(scene.object_map == index)
            assert len(xs) > 0, f"object {index} of {scene.file_name} is fully hidden"
            x, y, w, h = spec.box
            assert xs.min() >= x
            assert xs.max() < x + w
            assert ys.min() >= y
            assert ys.max() < y + h


def test_sizes_are_separable(test_scenes):
    small = [max(o.box[2], o.box[3]) for s in test_scenes for o in s.objects if o.size == "small"]
    large = [max(o.box[2], o.box[3]) for s in test_scenes for o in s.objects if o.size == "large"]
    assert small and large
    assert max(small) < min(large)


def test_object_colour_is_nearest_palette_entry(test_scenes):
    palette = np.array(list(COLORS.values()), dtype=np.float32)
    names = list(COLORS)
    for scene in test_scenes[:100]:
        for index, spec in enumerate(scene.objects):
            pixels = scene.image[scene.object_map == index].astype(np.float32)
            # The median skips anti-aliased edge pixels mixed with the background.
            median = np.median(pixels, axis=0)
            nearest = names[int(np.argmin(((palette - median) ** 2).sum(axis=1)))]
            assert nearest == spec.color


def test_five_distinct_lower_case_captions(test_scenes):
    for scene in test_scenes:
        assert len(scene.captions) == 5
        assert len(set(scene.captions)) == 5
        for caption in scene.captions:
            assert re.fullmatch(r"[a-z]+( [a-z]+)*", caption), caption
            assert set(caption.split()) <= WORDS, caption


def test_captions_name_every_kind_and_colour(test_scenes):
    for scene in test_scenes:
        for caption in scene.captions:
            words = caption.split()
            for spec in scene.objects:
                assert spec.color in words, caption
                assert any(word in (spec.kind, spec.kind + "s", spec.kind + "es") for word in words), caption


def test_plural_phrases_name_groups(test_scenes):
    plural_scenes = [s for s in test_scenes if any(c.startswith(("two ", "three ")) for c in s.captions)]
    assert plural_scenes, "no scene in the test split has a group caption"
    for scene in plural_scenes:
        pairs = Counter((o.kind, o.color) for o in scene.objects)
        assert max(pairs.values()) >= 2


def test_scene_labels_match_objects():
    scene = generate_scene("train", 7)
    labels = scene_labels(scene)
    assert labels["kind"].shape == (6,)
    assert labels["kind_color"].shape == (6 * 8,)
    assert labels["kind_size"].shape == (6 * 2,)
    assert labels["kind_count"].sum() == len(scene.objects)
    for spec in scene.objects:
        kind = KINDS.index(spec.kind)
        color = list(COLORS).index(spec.color)
        assert labels["kind"][kind] == 1.0
        assert labels["color"][color] == 1.0
        assert labels["kind_color"][kind * 8 + color] == 1.0
    assert labels["kind_color"].sum() == len({(o.kind, o.color) for o in scene.objects})


def test_patch_labels_follow_object_map():
    scene = generate_scene("train", 11)
    labels = patch_labels(scene, grid=16)
    assert labels["kind"].shape == (16, 16)
    for index, spec in enumerate(scene.objects):
        cells = np.argwhere(labels["object"] == index)
        assert len(cells) > 0
        x, y, w, h = spec.box
        for row, col in cells:
            # Every labelled 8 px cell must overlap the object's box.
            assert col * 8 < x + w
            assert (col + 1) * 8 > x
            assert row * 8 < y + h
            assert (row + 1) * 8 > y
        assert np.all(labels["kind"][labels["object"] == index] == 1 + KINDS.index(spec.kind))
    assert np.all(labels["kind"][labels["object"] == -1] == 0)
    assert np.all(labels["color"][labels["object"] == -1] == 0)


def test_patch_grid_must_divide_image():
    scene = generate_scene("train", 0)
    with pytest.raises(ValueError, match="grid 14 does not divide"):
        patch_object_map(scene, grid=14)


def test_word_to_object_uses_colour():
    objects = [
        ObjectSpec("circle", "red", "large", (10, 10, 40, 40)),
        ObjectSpec("circle", "blue", "small", (80, 80, 20, 20)),
        ObjectSpec("star", "green", "small", (80, 10, 20, 20)),
    ]
    groundings = word_to_object("a small blue circle next to a red circle".split(), objects)
    assert [g.token_index for g in groundings] == [3, 8]
    assert groundings[0].boxes == [(80, 80, 20, 20)]
    assert groundings[1].boxes == [(10, 10, 40, 40)]
    assert all(g.exact for g in groundings)


def test_word_to_object_plural_and_missing():
    objects = [
        ObjectSpec("star", "green", "small", (10, 10, 20, 20)),
        ObjectSpec("star", "green", "small", (60, 60, 20, 20)),
    ]
    groundings = word_to_object("two green stars and a ring".split(), objects)
    assert groundings[0].word == "stars"
    assert len(groundings[0].objects) == 2
    assert groundings[1].word == "ring"
    assert groundings[1].objects == []
    assert not groundings[1].exact


def test_word_to_object_wrong_colour_falls_back():
    objects = [ObjectSpec("square", "red", "large", (10, 10, 40, 40))]
    groundings = word_to_object("a blue square".split(), objects)
    assert groundings[0].objects == objects
    assert not groundings[0].exact


def test_word_to_object_on_generated_captions(test_scenes):
    for scene in test_scenes[:100]:
        for caption in scene.captions:
            for grounding in word_to_object(caption.split(), scene.objects):
                assert grounding.exact, caption
                assert grounding.objects, caption


def test_write_split_coco_layout(tmp_path):
    result = write_split(tmp_path, "val", count=4)
    assert result["images"] == 4

    captions = json.loads((tmp_path / "val" / "captions.json").read_text())
    instances = json.loads((tmp_path / "val" / "instances.json").read_text())
    assert [image["file_name"] for image in captions["images"]] == [f"demo_val_{i:06d}.png" for i in range(4)]
    assert len(captions["annotations"]) == 20
    assert len({a["id"] for a in captions["annotations"]}) == 20
    assert [c["name"] for c in instances["categories"]] == list(KINDS)

    for index, image in enumerate(captions["images"]):
        scene = generate_scene("val", index)
        assert image == {"id": scene.image_id, "file_name": scene.file_name, "width": 128, "height": 128}
        stored = np.asarray(Image.open(tmp_path / "val" / "images" / scene.file_name).convert("RGB"))
        assert np.array_equal(stored, scene.image)
        refs = [a["caption"] for a in captions["annotations"] if a["image_id"] == scene.image_id]
        assert refs == scene.captions
        boxes = [a for a in instances["annotations"] if a["image_id"] == scene.image_id]
        assert [tuple(a["bbox"]) for a in boxes] == [o.box for o in scene.objects]
        assert [a["attributes"] for a in boxes] == [{"color": o.color, "size": o.size} for o in scene.objects]
        assert [KINDS[a["category_id"] - 1] for a in boxes] == [o.kind for o in scene.objects]


def test_cli_writes_requested_splits(tmp_path, capsys):
    assert domain_main(["--out", str(tmp_path), "--splits", "test", "--count-test", "2"]) == 0
    assert sorted(p.name for p in (tmp_path / "test" / "images").iterdir()) == [
        "demo_test_000000.png",
        "demo_test_000001.png",
    ]
    assert not (tmp_path / "train").exists()
    assert "test: 2 images" in capsys.readouterr().out


def test_cli_rejects_unknown_split(tmp_path):
    with pytest.raises(SystemExit):
        domain_main(["--out", str(tmp_path), "--splits", "dev"])


def _ngrams(words, n):
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def _cider_d(candidates, references):
    """CIDEr-D as pycocoevalcap computes it: df over the references, clipping, sigma 6, factor 10."""
    document_frequency = defaultdict(float)
    for refs in references:
        for n in range(1, 5):
            seen = set()
            for ref in refs:
                seen.update(_ngrams(ref.split(), n))
            for gram in seen:
                document_frequency[gram] += 1.0
    log_images = math.log(len(references))

    def tf_idf(counts):
        vector = {g: tf * (log_images - math.log(max(1.0, document_frequency[g]))) for g, tf in counts.items()}
        return vector, math.sqrt(sum(v * v for v in vector.values()))

    scores = []
    for candidate, refs in zip(candidates, references):
        words = candidate.split()
        total = 0.0
        for n in range(1, 5):
            cand_vec, cand_norm = tf_idf(_ngrams(words, n))
            per_ref = 0.0
            for ref in refs:
                ref_words = ref.split()
                ref_vec, ref_norm = tf_idf(_ngrams(ref_words, n))
                dot = sum(min(value, ref_vec[g]) * ref_vec[g] for g, value in cand_vec.items() if g in ref_vec)
                cosine = dot / (cand_norm * ref_norm) if cand_norm and ref_norm else 0.0
                per_ref += cosine * math.exp(-((len(words) - len(ref_words)) ** 2) / (2 * 6.0**2))
            total += per_ref / len(refs)
        scores.append(total / 4 * 10)
    return float(np.mean(scores))


@pytest.mark.skipif(not GOLDEN_METRICS.exists(), reason="golden metrics folder ../shared is not beside the checkout")
def test_cider_helper_matches_golden():
    golden = json.loads(GOLDEN_METRICS.read_text())
    ids = golden["image_ids"]
    score = _cider_d([golden["res"][i][0] for i in ids], [golden["gts"][i] for i in ids])
    assert score == pytest.approx(golden["expected"]["cider"], abs=1e-9)


def test_references_agree_under_cider_d(test_scenes):
    # Each reference scored against the other four: what a captioner as consistent as the
    # templates would reach on the test split.
    for held_out in range(5):
        candidates = [scene.captions[held_out] for scene in test_scenes]
        references = [scene.captions[:held_out] + scene.captions[held_out + 1 :] for scene in test_scenes]
        assert _cider_d(candidates, references) >= 2.0


@pytest.fixture(scope="module")
def cutout_scenes():
    if not DEFAULT_COCO_DIR.exists():
        pytest.skip("coco-mini is read from the folder `shared` beside the checkout")
    return [generate_scene("train", index, coco_cutouts=True) for index in range(60)]


def test_cutouts_off_by_default():
    scenes = [generate_scene("train", index) for index in range(60)]
    assert all(spec.color is not None for scene in scenes for spec in scene.objects)


def test_cutouts_keep_scene_rules(cutout_scenes):
    with_cutout = [s for s in cutout_scenes if any(o.color is None for o in s.objects)]
    assert 10 <= len(with_cutout) <= 50
    for scene in with_cutout:
        assert len(scene.objects) <= 3
        cutout = next(o for o in scene.objects if o.color is None)
        assert cutout.kind not in KINDS
        assert cutout.coco_category_id is not None
        x, y, w, h = cutout.box
        assert x + w <= 128
        assert y + h <= 128
        for i, a in enumerate(scene.objects):
            for b in scene.objects[i + 1 :]:
                assert _overlap_share(a.box, b.box) <= MAX_BOX_OVERLAP


def test_cutouts_are_captioned_and_grounded(cutout_scenes):
    for scene in cutout_scenes:
        for caption in scene.captions:
            words = caption.split()
            for grounding in word_to_object(words, scene.objects):
                assert grounding.exact, caption
            for spec in scene.objects:
                if spec.color is None:
                    assert spec.kind in words, caption


def test_cutout_patch_labels_and_scene_labels(cutout_scenes):
    scene = next(s for s in cutout_scenes if any(o.color is None and o.size == "large" for o in s.objects))
    index = next(i for i, o in enumerate(scene.objects) if o.color is None)
    labels = patch_labels(scene, grid=16)
    assert np.any(labels["object"] == index)
    assert np.all(labels["kind"][labels["object"] == index] == CUTOUT_KIND_CLASS)
    assert np.all(labels["color"][labels["object"] == index] == 0)
    shapes = [o for o in scene.objects if o.color is not None]
    assert scene_labels(scene)["kind_count"].sum() == len(shapes)


def test_cutouts_deterministic_and_split_sources():
    if not DEFAULT_COCO_DIR.exists():
        pytest.skip("coco-mini is read from the folder `shared` beside the checkout")
    first = generate_scene("val", 5, coco_cutouts=True)
    second = generate_scene("val", 5, coco_cutouts=True)
    assert np.array_equal(first.image, second.image)
    assert first.objects == second.objects
    train_photos = {c.image_path.parent.name for c in load_cutouts(DEFAULT_COCO_DIR, "train2017")}
    val_photos = {c.image_path.parent.name for c in load_cutouts(DEFAULT_COCO_DIR, "val2017")}
    assert train_photos == {"train2017"}
    assert val_photos == {"val2017"}
    assert all(c.name not in WORDS for c in load_cutouts(DEFAULT_COCO_DIR, "val2017"))


def test_write_split_lists_cutout_categories(tmp_path):
    if not DEFAULT_COCO_DIR.exists():
        pytest.skip("coco-mini is read from the folder `shared` beside the checkout")
    write_split(tmp_path, "train", count=12, coco_cutouts=True)
    instances = json.loads((tmp_path / "train" / "instances.json").read_text())
    names = {c["id"]: c["name"] for c in instances["categories"]}
    cutouts = [a for a in instances["annotations"] if a["category_id"] > 1000]
    assert cutouts
    for annotation in cutouts:
        assert annotation["attributes"]["color"] is None
        assert names[annotation["category_id"]] not in KINDS
