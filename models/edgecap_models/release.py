"""Export the trained demo models as packages, measure them as shipped, write parity fixtures.

For each captioner variant: merge LoRA, round the weights to their stored precision, re-measure
CIDEr-D (through `edgecap evaluate`) and attention grounding on the test split with those
weights, and export. The reference variant goes to models/packages/demo-captioner/, the others
to models/work/packages/<variant>/. The CLIP model is rounded, re-measured (retrieval R@1) and
exported to models/packages/demo-clip/. The measured numbers go into each manifest and into
models/logs/metrics.json under "exported".

    PYTHONPATH=models /usr/bin/python3 -m edgecap_models.release --work models/work
"""

import argparse
import json
import shlex
import sys
from pathlib import Path

import torch

from . import parity
from .data import build_split, normalize
from .export import export_captioner, export_clip, load_captioner, load_clip, prepare_captioner, prepare_clip
from .text import clip_tokenize
from .train_captioner import evaluate_model
from .train_clip import trim
from .training import set_threads

REFERENCE_VARIANT = "r16_a32_grounded"  # train_demo's shipped run; --reference picks another
PACKAGE_BUDGET_BYTES = 40_000_000  # demo captioner + demo CLIP together


def package_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())


@torch.no_grad()
def clip_retrieval_from_pixels(model, test: dict) -> dict:
    """Image-to-text R@1 / R@5 and text-to-image R@1 computed from pixels with the given weights."""
    images = torch.cat([model.encode_image(normalize(chunk)) for chunk in torch.from_numpy(test["images"]).split(50)])
    per_image = len(test["captions"][0])
    ids = clip_tokenize([c for row in test["captions"] for c in row])
    texts = torch.cat([model.encode_text(trim(chunk)) for chunk in ids.split(500)])
    sims = torch.nn.functional.normalize(images, dim=-1) @ torch.nn.functional.normalize(texts, dim=-1).t()
    owner = torch.arange(texts.shape[0]) // per_image
    top = sims.topk(5, dim=1).indices
    rows = torch.arange(len(images))
    return {
        "image_to_text_r1": round((owner[top[:, 0]] == rows).float().mean().item(), 4),
        "image_to_text_r5": round((owner[top] == rows[:, None]).any(dim=1).float().mean().item(), 4),
        "text_to_image_r1": round((sims.argmax(dim=0) == owner).float().mean().item(), 4),
        "test_images": len(images),
        "test_captions": len(ids),
    }


def collect_stage_results(metrics: dict, folder: Path) -> None:
    """Merge stage results that single-stage commands wrote with --result into the metrics dict.

    Each keeps the command that produced it, because such stages may run apart from train_demo.
    """
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        result = json.loads(path.read_text())
        if path.stem in ("vit", "decoder", "clip"):
            metrics[path.stem] = result
        elif path.stem.startswith("captioner_"):
            metrics.setdefault("captioner", {})[result["variant"]] = result


def check_work_folder(parser, work: Path, reference: str) -> None:
    """Exit before writing anything when the work folder cannot produce both shipped packages.

    The release overwrites the committed packages, parity fixtures and metrics, so a typo in
    --work or --reference must not leave them half replaced.
    """
    if not work.is_dir():
        parser.error(f"--work {work} is not a folder; pass the folder that train_demo or the stage commands wrote")
    if not (work / f"captioner_{reference}.pt").exists():
        found = sorted(p.stem.removeprefix("captioner_") for p in work.glob("captioner_*.pt"))
        parser.error(
            f"--reference {reference!r} has no checkpoint {work / f'captioner_{reference}.pt'}; "
            f"runs in {work}: {', '.join(found) or 'none'}"
        )
    if not (work / "clip.pt").exists():
        parser.error(f"{work / 'clip.pt'} not found; run train_clip --out {work} first")
    # NOTE: a work folder from `train_demo --smoke` passes these checks. Release such a run with
    # --packages, --fixtures and --metrics under /tmp, or it replaces the shipped models.


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("models/work"), help="work folder with the checkpoints")
    parser.add_argument("--packages", type=Path, default=Path("models/packages"), help="folder of committed packages")
    parser.add_argument("--fixtures", type=Path, default=Path("test/fixtures/parity"), help="parity fixture folder")
    parser.add_argument("--metrics", type=Path, default=Path("models/logs/metrics.json"), help="metrics of record")
    parser.add_argument("--test-images", type=int, default=300, help="test images to measure on")
    parser.add_argument("--reference", default=REFERENCE_VARIANT, help="variant shipped as the demo captioner")
    parser.add_argument(
        "--measure-all", action="store_true", help="re-measure every variant as exported, not only the reference one"
    )
    args = parser.parse_args(argv)
    check_work_folder(parser, args.work, args.reference)
    set_threads()
    metrics = json.loads(args.metrics.read_text()) if args.metrics.exists() else {}
    collect_stage_results(metrics, args.metrics.parent / "results")
    arguments = argv if argv is not None else sys.argv[1:]
    exported = {"command": "PYTHONPATH=models /usr/bin/python3 -m edgecap_models.release " + shlex.join(arguments)}

    for checkpoint in sorted(args.work.glob("captioner_*.pt")):
        model, saved = load_captioner(checkpoint)
        variant = saved["variant"]
        storage = prepare_captioner(model)
        if variant != args.reference and not args.measure_all:
            # Exported without re-measuring: its metrics of record are the trained model's.
            record = {"variant": variant, "measured": "trained weights, before rounding",
                      **metrics.get("captioner", {}).get(variant, {})}  # fmt: skip
            record.pop("cli", None)
            folder = args.work / "packages" / variant
            training = {"variant": variant, "lora": saved["lora"], "trainable_params": saved["trainable_params"],
                        "steps": saved["steps"], "epochs": saved["epochs"], **storage}  # fmt: skip
            export_captioner(model, folder, f"edgecap-demo-captioner-{variant}", {"training": training, "metrics": record})
            record = {"variant": variant, "measured": record["measured"], "package": str(folder),
                      "package_bytes": package_bytes(folder)}  # fmt: skip
            exported.setdefault("captioner", {})[variant] = record
            print(json.dumps(record), flush=True)
            continue
        scores = evaluate_model(model, model.cfg, args.work, args.test_images, None, f"{variant}_exported", cache_tokens=False)
        record = {
            "measured": "exported weights (LoRA merged, int8 / fp16 rounded)",
            "variant": variant,
            "rank": saved["lora"]["rank"],
            "alpha": saved["lora"]["alpha"],
            "trainable_params": saved["trainable_params"],
            "epochs": round(saved["epochs"], 3),
            "final_train_loss": round(saved["final_loss"], 4),
            "cider_d": scores["cider_d"],
            "grounding": scores["grounding"],
            "kind_words": scores["kind_words"],
            "hallucinated_kind_words": scores["hallucinated_kind_words"],
            "decoding": scores["decoding"],
            "test_images": scores["test_images"],
            "cider_command": scores["cli"]["command"],
            "examples": scores["examples"],
        }
        folder = args.packages / "demo-captioner" if variant == args.reference else args.work / "packages" / variant
        package_id = "edgecap-demo-captioner" if variant == args.reference else f"edgecap-demo-captioner-{variant}"
        training = {"variant": variant, "lora": saved["lora"], "trainable_params": saved["trainable_params"],
                    "steps": saved["steps"], "epochs": saved["epochs"], **storage}  # fmt: skip
        export_captioner(model, folder, package_id, {"training": training, "metrics": record})
        record["package"] = str(folder)
        record["package_bytes"] = package_bytes(folder)
        if variant == args.reference:
            parity.write_captioner_fixture(model, folder, args.fixtures, package_id)
        exported.setdefault("captioner", {})[variant] = record
        print(json.dumps({k: v for k, v in record.items() if k != "examples"}), flush=True)

    if (args.work / "clip.pt").exists():
        clip = load_clip(args.work / "clip.pt")
        prepare_clip(clip)
        test = build_split("test", args.test_images, clip.cfg.vision.image_size, clip.cfg.vision.grid_size, args.work / "cache")
        record = clip_retrieval_from_pixels(clip, test)
        folder = args.packages / "demo-clip"
        export_clip(clip, folder, "edgecap-demo-clip", {"metrics": record})
        parity.write_clip_fixture(clip, folder, args.fixtures, "edgecap-demo-clip")
        record["package"] = str(folder)
        record["package_bytes"] = package_bytes(folder)
        exported["clip"] = record
        print(json.dumps(record), flush=True)

    shipped = [args.packages / "demo-captioner", args.packages / "demo-clip"]
    total = sum(package_bytes(f) for f in shipped if f.exists())
    exported["shipped_bytes"] = total
    exported["budget_bytes"] = PACKAGE_BUDGET_BYTES
    exported["within_budget"] = total <= PACKAGE_BUDGET_BYTES
    metrics["exported"] = exported
    args.metrics.write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps({"shipped_bytes": total, "within_budget": total <= PACKAGE_BUDGET_BYTES}))


if __name__ == "__main__":
    main()
