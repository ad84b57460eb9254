"""Command line: write demo splits in COCO layout.

Run from models/: `/usr/bin/python3 -m edgecap_models.domain --out DIR [--splits train,val,test]
[--count-train N] [--count-val N] [--count-test N]`.
"""

import argparse
import sys
from pathlib import Path

from .coco_files import write_split
from .scene import SPLITS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m edgecap_models.domain",
        description="Generate the edgecap demo domain (synthetic shapes with five captions each) in COCO layout.",
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder; one subfolder per split is created")
    parser.add_argument(
        "--splits",
        default=",".join(SPLITS),
        help=f"comma-separated splits to write (default: {','.join(SPLITS)})",
    )
    for name, spec in SPLITS.items():
        parser.add_argument(
            f"--count-{name}",
            type=int,
            default=None,
            help=f"number of {name} images, from index 0 (default: {spec.size})",
        )
    parser.add_argument(
        "--coco-cutouts",
        action="store_true",
        help="paste one object cut out of a real COCO photo into half of the scenes with fewer than 3 shapes",
    )
    parser.add_argument(
        "--coco-dir",
        type=Path,
        default=None,
        help="COCO folder with annotations/instances_*.json, train2017/ and val2017/ (default: coco-mini beside the repository)",
    )
    args = parser.parse_args(argv)

    splits = [name.strip() for name in args.splits.split(",") if name.strip()]
    unknown = [name for name in splits if name not in SPLITS]
    if unknown:
        parser.error(f"unknown split(s) {', '.join(unknown)}; choose from {', '.join(SPLITS)}")

    for name in splits:
        count = getattr(args, f"count_{name}")
        if count is not None and count < 0:
            parser.error(f"--count-{name} must be >= 0, got {count}")
        result = write_split(args.out, name, count, coco_cutouts=args.coco_cutouts, coco_dir=args.coco_dir)
        print(
            f"{name}: {int(result['images'])} images in {result['seconds']:.1f} s -> {args.out / name}",
            file=sys.stdout,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
