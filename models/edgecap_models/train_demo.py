"""Run every demo training stage in order and record the metrics of record.

Stages: a. decoder language model, b. ViT pretraining, c. the captioner for each LoRA variant,
then the shipped captioner (r16_a32 continued with attention supervision), d. the CLIP-style dual
encoder. Logs go to models/logs/*.jsonl; the summary, with the command that produced it, goes to
models/logs/metrics.json.

    /usr/bin/python3 -m edgecap_models.train_demo --out models/work
    /usr/bin/python3 -m edgecap_models.train_demo --out /tmp/edgecap-smoke --smoke   # a few steps each

The step counts are sized from step times measured on 2 idle CPU cores (ViT about 1 s per step
after a 0.17 s-per-step stem warm-up, captioner about 2 s, CLIP about 0.7 s): about 75 minutes
for the whole run, and much longer when other jobs share the cores.
"""

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from . import train_captioner, train_clip, train_decoder, train_vit
from .lora import LoRAConfig

# NOTE: this full plan has not run end to end as one command. The shipped demo models came from
# single-stage commands with the same step counts, recorded in models/logs/metrics.json.
FULL = dict(decoder_steps=200, vit_stem_steps=1000, vit_steps=300, captioner_steps=300, grounded_steps=400, clip_steps=600,
            images=6000, test_images=300)  # fmt: skip
SMOKE = dict(decoder_steps=3, vit_stem_steps=3, vit_steps=3, captioner_steps=3, grounded_steps=3, clip_steps=3, images=64,
             test_images=20)  # fmt: skip

# The shipped captioner continues the reference variant with attention supervision (grounding_loss.py).
SHIPPED_BASE = "r16_a32"
SHIPPED_NAME = "r16_a32_grounded"
GROUNDING_WEIGHT = 0.5


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("models/work"), help="work folder (checkpoints, caches)")
    parser.add_argument("--logs", type=Path, default=None,
                        help="folder for logs and metrics.json (default models/logs; with --smoke, OUT/logs)")  # fmt: skip
    parser.add_argument("--smoke", action="store_true", help="a few steps per stage on 64 images")
    parser.add_argument("--variants", default=",".join(train_captioner.VARIANTS), help="captioner variants to train")
    parser.add_argument("--skip", default="", help="comma-separated stages to reuse from --out: decoder,vit")
    for key in FULL:
        parser.add_argument("--" + key.replace("_", "-"), type=int, default=None, help=f"override {key}")
    args = parser.parse_args(argv)
    if args.logs is None:
        # A smoke run must not append to the committed training logs of the shipped models.
        args.logs = args.out / "logs" if args.smoke else Path("models/logs")
    plan = dict(SMOKE if args.smoke else FULL)
    for key in FULL:
        if getattr(args, key) is not None:
            plan[key] = getattr(args, key)
    skip = set(filter(None, args.skip.split(",")))
    args.out.mkdir(parents=True, exist_ok=True)
    command = "/usr/bin/python3 -m edgecap_models.train_demo " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    metrics_path = args.logs / ("metrics.smoke.json" if args.smoke else "metrics.json")
    metrics = {"command": command, "cwd": "repository root, PYTHONPATH=models", "plan": plan,
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # fmt: skip
    if skip and metrics_path.exists():
        # Reused stages keep the metrics of the run that trained them.
        earlier = json.loads(metrics_path.read_text())
        metrics["earlier_runs"] = earlier.get("earlier_runs", []) + [{"command": earlier.get("command")}]
        for stage in skip:
            if stage in earlier:
                metrics[stage] = earlier[stage]

    def save():
        metrics_path.parent.mkdir(parents=True, exist_ok=True)
        metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")

    if "decoder" not in skip:
        metrics["decoder"] = train_decoder.run(
            args.out, plan["decoder_steps"], 64, 2e-3, plan["images"], args.logs / "train_decoder.jsonl"
        )
        save()
    if "vit" not in skip:
        metrics["vit"] = train_vit.run(args.out, plan["vit_steps"], 32, 1e-3, plan["images"], args.logs / "train_vit.jsonl",
                                       stem_steps=plan["vit_stem_steps"])  # fmt: skip
        save()

    def train_variant(name: str, base: str, steps: int, **options) -> dict:
        preset = train_captioner.VARIANTS[base]
        return train_captioner.run(
            args.out,
            name,
            LoRAConfig(rank=preset["rank"], alpha=preset["alpha"]),
            steps,
            16,
            2e-3,
            plan["images"],
            plan["test_images"],
            args.logs / f"train_captioner_{name}.jsonl",
            **options,
        )

    metrics["captioner"] = {}
    for name in filter(None, args.variants.split(",")):
        metrics["captioner"][name] = train_variant(name, name, plan["captioner_steps"])
        save()

    if SHIPPED_BASE in metrics["captioner"] and plan["grounded_steps"] > 0:
        metrics["captioner"][SHIPPED_NAME] = train_variant(
            SHIPPED_NAME,
            SHIPPED_BASE,
            plan["grounded_steps"],
            init_from=args.out / f"captioner_{SHIPPED_BASE}.pt",
            grounding_weight=GROUNDING_WEIGHT,
        )
        save()

    metrics["clip"] = train_clip.run(
        args.out, plan["clip_steps"], 64, 1e-3, plan["images"], plan["test_images"], args.logs / "train_clip.jsonl"
    )
    metrics["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    save()
    print(json.dumps({k: v for k, v in metrics.items() if k != "captioner"}, indent=2))


if __name__ == "__main__":
    main()
