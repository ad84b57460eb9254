"""Captioner evaluation on a demo split: greedy captions, attention grounding, CIDEr-D via edgecap.

CIDEr-D comes from edgecap's own TypeScript metrics (`edgecap evaluate`), fed the homework files:
predictions `{name_without_ext: caption}` and COCO-layout references.

Attention grounding: for each generated kind word ("circle", "stars") that names an object of the
scene, average its tokens' prefix-attention rows over heads (done in the model) and layers, drop
CLS, take the peak of the 14 x 14 patch grid, and count a hit when the peak patch's centre lies
inside the box of an object the word names. A kind word whose kind is absent from the scene
counts as a miss. Score = hits / kind words.

    /usr/bin/python3 -m edgecap_models.evaluate_captioner --checkpoint models/work/captioner_r16_a32.pt
"""

import argparse
import json
import shutil
import subprocess
from pathlib import Path

import torch

from .domain import IMAGE_SIZE, ObjectSpec, word_to_object
from .text import gpt2_decode, gpt2_token_texts

REPO_ROOT = Path(__file__).resolve().parents[2]


@torch.no_grad()
def generate_captions(model, vit_tokens, batch_size: int = 50, first_block: int | None = None):
    """Greedy-decode every image; return [(caption, token ids, rows (n, L, 197))]."""
    model.eval()
    results = []
    for start in range(0, vit_tokens.shape[0], batch_size):
        tokens = vit_tokens[start : start + batch_size].float()
        if first_block is not None:
            tokens = model.vit(None, first_block=first_block, tokens=tokens)
        sequences, rows = model.generate(model.encode_image(vit_tokens=tokens))
        for ids, att in zip(sequences, rows):
            results.append((gpt2_decode(ids).strip(), ids, att))
    return results


def words_of_tokens(ids: list[int]) -> list[tuple[str, list[int]]]:
    """Group GPT-2 tokens into space-separated words: [(word, token positions)]."""
    words: list[tuple[str, list[int]]] = []
    for position, text in enumerate(gpt2_token_texts(ids)):
        if not words or text.startswith(" "):
            words.append((text.strip(), [position]))
        else:
            word, positions = words[-1]
            words[-1] = (word + text, positions + [position])
    return [(w.lower(), p) for w, p in words if w]


def peak_patch(rows: torch.Tensor, grid: int) -> tuple[int, int]:
    """rows (n, L, 1+grid*grid) -> (row, col) of the peak of the layer- and token-averaged map."""
    patch_map = rows.mean(dim=(0, 1))[1:]  # CLS dropped, (grid*grid,)
    index = int(patch_map.argmax())
    return index // grid, index % grid


def patch_centre_in_box(row: int, col: int, grid: int, box) -> bool:
    """True when the patch centre, mapped to the 128 px scene, lies inside box [x, y, w, h]."""
    cell = IMAGE_SIZE / grid  # the crop keeps the whole square scene
    x, y = (col + 0.5) * cell, (row + 0.5) * cell
    return box[0] <= x < box[0] + box[2] and box[1] <= y < box[1] + box[3]


def grounding(results, objects_per_image, grid: int) -> dict:
    """Return hits, kind words and hallucinated kind words over all generated captions."""
    hits = total = hallucinated = 0
    for (_caption, ids, rows), objects in zip(results, objects_per_image):
        specs = [ObjectSpec(kind, color, size, tuple(box)) for kind, color, size, box in objects]
        words = words_of_tokens(ids)
        for item in word_to_object([w for w, _ in words], specs):
            total += 1
            if not item.objects:
                hallucinated += 1
                continue
            positions = words[item.token_index][1]
            row, col = peak_patch(rows[positions], grid)
            if any(patch_centre_in_box(row, col, grid, box) for box in item.boxes):
                hits += 1
    return {
        "grounding": hits / total if total else 0.0,
        "kind_words": total,
        "hits": hits,
        "hallucinated_kind_words": hallucinated,
    }


def write_homework_files(folder: Path, names, predictions: list[str], references) -> tuple[Path, Path]:
    """Write predictions `{name: caption}` and COCO-layout references; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    prediction_path = folder / "predictions.json"
    reference_path = folder / "references.json"
    prediction_path.write_text(json.dumps({str(n): p for n, p in zip(names, predictions)}, indent=0))
    images, annotations = [], []
    for image_id, (name, captions) in enumerate(zip(names, references)):
        images.append({"id": image_id, "file_name": f"{name}.png"})
        for caption in captions:
            annotations.append({"id": len(annotations), "image_id": image_id, "caption": str(caption)})
    reference_path.write_text(json.dumps({"images": images, "annotations": annotations}))
    return prediction_path, reference_path


def score_with_cli(prediction_path: Path, reference_path: Path) -> dict:
    """Run `edgecap evaluate` on the homework files; return its JSON, or an error record."""
    command = [
        "npx", "node", "cli/edgecap.mjs", "evaluate",
        "--predictions", str(prediction_path.resolve()),
        "--references", str(reference_path.resolve()),
        "--format", "json",
    ]  # fmt: skip
    record = {"command": "cd " + str(REPO_ROOT) + " && " + " ".join(command)}
    if shutil.which("npx") is None or not (REPO_ROOT / "cli" / "commands" / "evaluate.ts").exists():
        record["error"] = "edgecap evaluate is not available; run the command above once it exists"
        return record
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    if completed.returncode != 0:
        record["error"] = f"exit {completed.returncode}: {completed.stderr.strip()[-500:]}"
        return record
    try:
        record["result"] = json.loads(completed.stdout)
    except json.JSONDecodeError:
        record["error"] = f"output is not JSON: {completed.stdout[-300:]}"
    return record


def cider_of(record: dict):
    """Return the corpus CIDEr-D from `edgecap evaluate --format json` output (`scores.cider_d`), or None."""
    result = record.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("scores"), dict):
        return None
    value = result["scores"].get("cider_d")
    return float(value) if isinstance(value, (int, float)) else None


def main(argv=None):
    from .train_captioner import evaluate_checkpoint

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True, help="captioner checkpoint from train_captioner")
    parser.add_argument("--out", type=Path, default=Path("models/work"), help="work folder (caches, outputs)")
    parser.add_argument("--images", type=int, default=300, help="test images to caption")
    args = parser.parse_args(argv)
    if not args.checkpoint.exists():
        parser.error(f"--checkpoint {args.checkpoint} not found; pass a captioner_*.pt that train_captioner wrote")
    if args.images < 1:
        parser.error(f"--images must be at least 1, got {args.images}")
    print(json.dumps(evaluate_checkpoint(args.checkpoint, args.out, args.images), indent=2))


if __name__ == "__main__":
    main()
