"""Caption a folder of images with LLaVA-1.5 and dump per-token attention maps.

Serving engines (vLLM, Workers AI) return text only, so the report's LLaVA attention maps come
from this tool, run on a GPU machine with transformers. For every (instruction, generation
config) pair it writes a predictions file in the homework format and, unless --no-attention is
given, one edgecap.attention/v1 document per image (layout in run_output.py).

Run from the repository root:

    python3 -m models.llava.caption_attention --images DIR --output-dir OUT [options]

torch and transformers are imported only after the arguments are checked, so --help and the
input checks work without them.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

if __package__ in (None, ""):
    # Executed as a file path: make `models.llava` importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "models.llava"

from . import postprocess, run_output
from .run_config import (
    DEFAULT_INSTRUCTION,
    DEFAULT_MAX_NEW_TOKENS,
    InputError,
    decoding_strategy,
    generate_arguments,
    list_images,
    load_generation_configs,
    load_instructions,
    parse_layers,
)

DEFAULT_MODEL = "llava-hf/llava-1.5-7b-hf"
TINY_RANDOM_MODEL_ID = "tiny-random-llava"

# The llava-hf processor expands '<image>' to 576 tokens itself (with num_additional_image_tokens)
# from transformers 4.47 on; older versions leave one token and the span check fails.
MINIMUM_TRANSFORMERS = (4, 47)

EXIT_INPUT = 2
EXIT_ENVIRONMENT = 3

logger = logging.getLogger("edgecap.llava")


def build_prompt(instruction: str) -> str:
    """Return LLaVA-1.5's single-turn conversation prompt; the tokenizer adds BOS in front."""
    return f"USER: <image>\n{instruction} ASSISTANT:"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m models.llava.caption_attention",
        description=(
            "Caption every image of a folder with LLaVA-1.5 (transformers, eager attention) and write\n"
            "homework-format predictions plus per-token attention maps (edgecap.attention/v1, 24 x 24\n"
            "patch grid, attention sink removed) for each pair of instruction and generation config."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "generation config keys (JSON): name, do_sample, num_beams, num_return_sequences, temperature, top_p,\n"
            "top_k, max_new_tokens (default %d), repetition_penalty, length_penalty, no_repeat_ngram_size,\n"
            "early_stopping, seed (torch seed set before each image's generate()). Lengths are in tokens.\n"
            "Example: --config '{\"name\": \"beam5\", \"num_beams\": 5, \"max_new_tokens\": 30}'\n"
            "\n"
            "output: OUT/runs.json, OUT/predictions/<config name>-i<instruction index>.json and\n"
            "OUT/attention/<same>.json (a JSON array, one document per image).\n"
            "\n"
            "exit status: 0 done, 1 a run failed, %d invalid input, %d missing CUDA or transformers."
        )
        % (DEFAULT_MAX_NEW_TOKENS, EXIT_INPUT, EXIT_ENVIRONMENT),
    )

    parser.add_argument(
        "--images", required=True, metavar="DIR", help="folder of .jpg/.jpeg/.png/.webp/.bmp/.gif images (not recursive)"
    )
    parser.add_argument(
        "--output-dir", required=True, metavar="DIR", help="folder for runs.json, predictions/ and attention/ (created if missing)"
    )
    parser.add_argument(
        "--instruction",
        action="append",
        metavar="TEXT",
        help=f"instruction placed after the image in the prompt; repeatable (default: {DEFAULT_INSTRUCTION!r})",
    )
    parser.add_argument(
        "--instruction-file", metavar="FILE", help="text file with one instruction per line ('#' starts a comment line)"
    )
    parser.add_argument(
        "--config",
        action="append",
        metavar="JSON|FILE",
        help=(
            "generation config as inline JSON or a JSON file (an object or a list of objects); "
            "repeatable (default: greedy, 30 new tokens)"
        ),
    )

    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"Hugging Face model id or local folder (default: {DEFAULT_MODEL})"
    )
    source.add_argument(
        "--tiny-random",
        action="store_true",
        help=(
            "use a tiny randomly initialised LLaVA built in code (2 layers, byte tokenizer) to test the "
            "pipeline without downloads; its captions are noise"
        ),
    )
    parser.add_argument(
        "--revision", help="model revision (branch, tag or commit) for a hub model id (default: the hub's default branch)"
    )
    parser.add_argument(
        "--local-files-only",
        action="store_true",
        help="load the model only from the local Hugging Face cache, never from the network",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the --tiny-random weights (default: 0)")

    parser.add_argument(
        "--device",
        choices=("cuda", "cpu"),
        default="cuda",
        help="cuda runs fp16 weights on the first GPU; cpu runs float32 and is meant for --tiny-random (default: cuda)",
    )
    parser.add_argument(
        "--layers",
        default="all",
        help="0-based decoder layers to average, e.g. '0-15' or '8,16,24', or 'all' (default: all 32 of LLaVA-1.5-7B)",
    )
    parser.add_argument("--no-attention", action="store_true", help="write predictions only; generation then uses the SDPA kernel")
    parser.add_argument("--limit", type=int, metavar="N", help="caption only the first N images in name order")
    return parser


class EnvironmentProblem(RuntimeError):
    """CUDA or a required package is missing; the message names what to install or pass."""


def select_device(name: str, tiny_random: bool) -> tuple[Any, Any]:
    """Return (torch.device, dtype): CUDA with fp16, or CPU with float32 when requested."""
    try:
        import torch
    except ImportError as error:
        raise EnvironmentProblem("torch is not installed; install a CUDA build of PyTorch on the GPU machine") from error

    if name == "cuda":
        if not torch.cuda.is_available():
            raise EnvironmentProblem(
                "CUDA is not available: LLaVA-1.5-7B needs a CUDA GPU. "
                "Run this on the GPU machine, or pass --device cpu together with --tiny-random to test the pipeline."
            )
        return torch.device("cuda"), torch.float16

    if not tiny_random:
        logger.warning("running the full model on CPU in float32 needs about 28 GB of memory and minutes per caption")
    return torch.device("cpu"), torch.float32


def import_transformers() -> ModuleType:
    """Import transformers, or raise EnvironmentProblem naming the version to install."""
    required = ".".join(str(part) for part in MINIMUM_TRANSFORMERS)
    try:
        import transformers
    except ImportError as error:
        raise EnvironmentProblem(f"transformers is not installed; run: pip install 'transformers>={required}' pillow") from error

    version = tuple(int(part) for part in transformers.__version__.split(".")[:2] if part.isdigit())
    if version < MINIMUM_TRANSFORMERS:
        raise EnvironmentProblem(f"transformers {transformers.__version__} is too old; upgrade to >= {required}")
    return transformers


def load_model(args: argparse.Namespace, transformers: ModuleType, device: Any, dtype: Any) -> tuple[Any, Any, dict[str, Any]]:
    """Return (model, processor, model description for the documents)."""
    attention_kernel = "sdpa" if args.no_attention else "eager"

    if args.tiny_random:
        from .tiny_random import build_tiny_random

        model, processor = build_tiny_random(transformers, args.seed)
        description = {"id": f"{TINY_RANDOM_MODEL_ID}-seed{args.seed}", "sha256": None, "revision": None}
    else:
        options: dict[str, Any] = {"revision": args.revision, "local_files_only": args.local_files_only}
        processor = transformers.AutoProcessor.from_pretrained(args.model, **options)

        # transformers 4.56 renamed from_pretrained's torch_dtype argument to dtype.
        version = tuple(int(part) for part in transformers.__version__.split(".")[:2] if part.isdigit())
        dtype_argument = "dtype" if version >= (4, 56) else "torch_dtype"
        model = transformers.LlavaForConditionalGeneration.from_pretrained(
            args.model, attn_implementation=attention_kernel, **{dtype_argument: dtype}, **options
        )
        # The weights are not hashed (about 14 GB); the hub commit identifies them instead.
        description = {"id": args.model, "sha256": None, "revision": getattr(model.config, "_commit_hash", None)}

    model.to(device=device, dtype=dtype)
    model.eval()
    return model, processor, description


def grid_crop(processor: Any, width: int, height: int) -> dict[str, int]:
    """Return the region of the original image behind the patch grid, from the processor's settings."""
    image_processor = processor.image_processor

    def setting(container: Any, key: str) -> Any:
        try:
            return container[key]
        except (TypeError, KeyError):
            return getattr(container, key, None)

    shortest_edge = setting(image_processor.size, "shortest_edge")
    crop_height = setting(image_processor.crop_size, "height")
    crop_width = setting(image_processor.crop_size, "width")
    if not getattr(image_processor, "do_center_crop", False) or getattr(image_processor, "do_pad", False) or shortest_edge is None:
        raise ValueError(
            "unsupported image preprocessing: expected a shortest-edge resize and a centre crop as in "
            f"LLaVA-1.5, got size={image_processor.size}, crop_size={image_processor.crop_size}"
        )
    return postprocess.center_crop_region(width, height, shortest_edge, crop_height, crop_width)


def describe_image(path: Path) -> tuple[Any, dict[str, Any]]:
    """Open an image; return (RGB image, schema image fields). No EXIF rotation, as the processor applies none."""
    from PIL import Image

    data = path.read_bytes()
    with Image.open(path) as opened:
        width, height = opened.size
        rgb = opened.convert("RGB")
    return rgb, {"id": path.stem, "width": width, "height": height, "sha256": hashlib.sha256(data).hexdigest()}


def image_token_of(model: Any) -> int:
    """Return the image token id; LlavaConfig maps image_token_id and image_token_index to one value."""
    config = model.config
    token = getattr(config, "image_token_id", None)
    return int(token if token is not None else config.image_token_index)


def end_token_ids(model: Any, tokenizer: Any) -> list[int]:
    configured = model.generation_config.eos_token_id
    ids = configured if isinstance(configured, list) else [configured]
    return sorted({int(token) for token in ids + [tokenizer.eos_token_id] if token is not None})


def caption_one_image(
    model: Any,
    processor: Any,
    image_path: Path,
    instruction: str,
    config: dict[str, Any],
    layers: list[int] | None,
    want_attention: bool,
    model_description: dict[str, Any],
) -> tuple[str, dict[str, Any] | None]:
    """Generate for one image and return (rank-0 caption, attention document or None)."""
    import torch

    tokenizer = processor.tokenizer
    image_token_id = image_token_of(model)
    grid = postprocess.LLAVA15_GRID
    image, image_fields = describe_image(image_path)

    # 1. Build the inputs and find the image tokens in the expanded prompt.
    inputs = processor(images=image, text=build_prompt(instruction), return_tensors="pt")
    inputs = {key: value.to(model.device) for key, value in inputs.items()}
    inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
    prompt_ids = inputs["input_ids"][0].tolist()
    if prompt_ids[0] != tokenizer.bos_token_id:
        raise ValueError(
            f"the prompt starts with token {prompt_ids[0]}, not BOS {tokenizer.bos_token_id}, "
            "so position 0 is not the attention sink"
        )
    span = postprocess.locate_image_span(prompt_ids, image_token_id, grid)

    # 2. Generate, keeping the scores and (unless disabled) every step's attention.
    if "seed" in config:
        torch.manual_seed(config["seed"])
    ends = end_token_ids(model, tokenizer)
    with torch.inference_mode():
        outputs = model.generate(
            **inputs,
            **generate_arguments(config),
            eos_token_id=ends,
            pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else ends[0],
            # '<image>' is never a caption token; the tiny random model would otherwise emit it.
            suppress_tokens=[image_token_id],
            output_attentions=want_attention,
            output_scores=True,
            return_dict_in_generate=True,
        )

    # 3. Split the returned sequences into tokens, captions and scores.
    prompt_length = inputs["input_ids"].shape[1]
    generated = outputs.sequences[:, prompt_length:].tolist()
    beam_search = config.get("num_beams", 1) > 1
    if beam_search:
        scores = outputs.sequences_scores.tolist()
    else:
        transitions = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)
        scores = []
        for row, sequence in enumerate(generated):
            caption_length = len(postprocess.trim_at_end_token(sequence, ends))
            counted = min(caption_length + 1, len(sequence))  # the end token's probability belongs to the sequence
            scores.append(float(transitions[row, :counted].sum()))

    # Beams come back best first; independent samples are ranked by log-probability.
    order = list(range(len(generated))) if beam_search else sorted(range(len(generated)), key=lambda row: -scores[row])
    candidates = []
    for row in order:
        token_ids = postprocess.trim_at_end_token(generated[row], ends)
        caption = tokenizer.decode(token_ids, skip_special_tokens=True).strip()
        candidates.append((row, token_ids, caption, scores[row]))

    if not want_attention:
        return candidates[0][2], None

    # 4. Keep the last query position of every step and layer: (batch_rows, heads, keys).
    if outputs.attentions is None or any(layer is None for step in outputs.attentions for layer in step):
        raise RuntimeError("generate() returned no attention weights; the model must be loaded with attn_implementation='eager'")
    step_attentions = [[layer[:, :, -1, :].float().cpu().numpy() for layer in step] for step in outputs.attentions]
    batch_rows = step_attentions[0][0].shape[0]
    layer_count = len(step_attentions[0])

    beam_indices = getattr(outputs, "beam_indices", None)
    if beam_search and beam_indices is None:
        raise RuntimeError(
            "beam search returned no beam_indices, so rows of different beams would be mixed; "
            "use a transformers version that returns them, or pass --no-attention"
        )

    # 5. Follow each hypothesis's own rows and build its maps.
    def decode(ids: list[int]) -> str:
        return tokenizer.decode(ids, skip_special_tokens=True)

    hypotheses = []
    for rank, (row, token_ids, caption, score) in enumerate(candidates):
        if beam_search:
            path = postprocess.follow_beam_path(beam_indices[row].tolist(), len(token_ids), batch_rows)
        else:
            path = [row] * len(token_ids)
        maps = postprocess.token_attention_maps(step_attentions, path, span, grid, layers, remove_sink=True)
        texts = postprocess.token_display_texts(token_ids, decode)
        hypotheses.append(postprocess.build_hypothesis(rank, caption, score, token_ids, texts, maps))

    document = postprocess.build_attention_document(
        model=model_description,
        image=image_fields,
        config={"strategy": decoding_strategy(config), **config, "instruction": instruction},
        grid=grid,
        crop=grid_crop(processor, image_fields["width"], image_fields["height"]),
        layers=layers if layers is not None else list(range(layer_count)),
        sink_removed=True,
        hypotheses=hypotheses,
    )
    return candidates[0][2], document


def run(args: argparse.Namespace) -> int:
    """Check inputs, load the model and write every run; returns the exit status."""
    try:
        images = list_images(args.images, args.limit)
        instructions = load_instructions(args.instruction, args.instruction_file)
        configs = load_generation_configs(args.config)
        layers = parse_layers(args.layers)
    except InputError as error:
        logger.error("%s", error)
        return EXIT_INPUT

    try:
        device, dtype = select_device(args.device, args.tiny_random)
        transformers = import_transformers()
    except EnvironmentProblem as error:
        logger.error("%s", error)
        return EXIT_ENVIRONMENT

    import torch

    try:
        model, processor, model_description = load_model(args, transformers, device, dtype)
    except OSError as error:
        logger.error("loading %s failed: %s; check the model id or path, or drop --local-files-only", args.model, error)
        return EXIT_ENVIRONMENT

    layer_count = model.config.text_config.num_hidden_layers
    if layers is not None and max(layers) >= layer_count:
        logger.error(
            "--layers requests layer %d but the model has %d decoder layers (0-%d)", max(layers), layer_count, layer_count - 1
        )
        return EXIT_INPUT
    environment = {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "dtype": str(dtype).removeprefix("torch."),
    }
    logger.info("loaded %s on %s (%s)", model_description["id"], environment["device"], environment["dtype"])

    output = Path(args.output_dir)
    want_attention = not args.no_attention
    finished_runs: list[dict[str, Any]] = []

    for config in configs:
        for instruction_index, instruction in enumerate(instructions):
            current = run_output.run_id(config["name"], instruction_index)
            predictions: dict[str, str] = {}
            documents: list[dict[str, Any]] = []

            for count, image_path in enumerate(images, start=1):
                started = time.monotonic()
                try:
                    caption, document = caption_one_image(
                        model, processor, image_path, instruction, config, layers, want_attention, model_description
                    )
                except (ValueError, RuntimeError) as error:
                    logger.error("run %s failed on %s: %s", current, image_path.name, error)
                    return 1
                predictions[image_path.stem] = caption
                if document is not None:
                    documents.append(document)
                elapsed = time.monotonic() - started
                logger.info("%s %d/%d %s %.1fs: %s", current, count, len(images), image_path.name, elapsed, caption)

            run_output.write_json(output / run_output.predictions_path(current), predictions)
            if want_attention:
                run_output.write_json(output / run_output.attention_path(current), documents, compact=True)
            finished_runs.append(
                {
                    "id": current,
                    "instruction": instruction,
                    "config": config,
                    "images": len(images),
                    "predictions": run_output.predictions_path(current),
                    "attention": run_output.attention_path(current) if want_attention else None,
                }
            )

            # Rewritten after every run so that an interrupted job still lists what it finished.
            manifest = run_output.build_manifest(
                model={**model_description, "family": postprocess.MODEL_FAMILY},
                environment=environment,
                grid=postprocess.LLAVA15_GRID,
                layers=layers if layers is not None else list(range(layer_count)),
                sink_removed=want_attention,
                runs=finished_runs,
            )
            run_output.write_json(output / run_output.MANIFEST_NAME, manifest)

    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
