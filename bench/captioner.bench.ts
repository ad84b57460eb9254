// Captioning runtime benchmark. It times edgecap's runtime against @huggingface/transformers'
// image-to-text pipeline on the same community-layout ONNX files and the same onnxruntime-node,
// once with default session options and once with one intra-op thread for both. Then it times
// edgecap's captions with a cached prefix against cold ones.
// Each case captions the same COCO photos from JPEG bytes in memory (decode, preprocess, encode,
// decode tokens) with the same max_new_tokens. It runs WARMUP_RUNS untimed rounds, then RUNS timed
// rounds that alternate between the runners, and reports per image the median and minimum wall
// time and the median CPU time of the process.
// Run: npx node bench/captioner.bench.ts
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { directoryPackageSource, initNodeImageCodecs } from "../cli/node-host.ts";
import type { CaptionGenerationOptions, CaptionResult } from "../shared/runtime/captioner.ts";
import { MemoryEmbeddingCache } from "../shared/runtime/embedding-cache.ts";
import { type Captioner, loadCaptionerPackage } from "../shared/runtime/load-package.ts";
import type { InferenceSession, OrtApi } from "../shared/runtime/ort.ts";
import { OWNER_DATA_DIR, REPO_ROOT } from "../test/helpers/paths.ts";

const COMMUNITY_DIR = join(REPO_ROOT, "test/fixtures/community");
const COMMUNITY_MODEL = "vit-gpt2-tiny-random";
const DEMO_PACKAGE = join(REPO_ROOT, "models/packages/demo-captioner");
const TINY_PACKAGE = join(REPO_ROOT, "test/fixtures/packages/tiny-random");
const TRANSFORMERS_DIR = join(REPO_ROOT, "node_modules/@huggingface/transformers");
const PHOTO_DIR = join(OWNER_DATA_DIR, "data/coco-mini/val2017");
const PHOTO_COUNT = 3;
const MAX_NEW_TOKENS = 20;
const WARMUP_RUNS = 2;
const RUNS = 9;

interface Timing {
  /** Median wall time per image. */
  medianMs: number;
  minMs: number;
  /** Median CPU time of the whole process per image (all threads, ONNX Runtime's included). */
  cpuMs: number;
}

function summarize(wall: number[], cpu: number[]): Timing {
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  return { medianMs: median(wall), minMs: Math.min(...wall), cpuMs: median(cpu) };
}

/**
 * Times rounds (each captions every photo once) of several runners, alternating between them so
 * that load from other processes falls on all of them alike. Returns per-image times.
 */
async function timeAlternating(rounds: (() => Promise<unknown>)[]): Promise<Timing[]> {
  for (let i = 0; i < WARMUP_RUNS; i++) for (const round of rounds) await round();
  const wall = rounds.map((): number[] => []);
  const cpu = rounds.map((): number[] => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [index, round] of rounds.entries()) {
      const cpuStarted = process.cpuUsage();
      const started = performance.now();
      await round();
      wall[index]?.push((performance.now() - started) / PHOTO_COUNT);
      const used = process.cpuUsage(cpuStarted);
      cpu[index]?.push((used.user + used.system) / 1000 / PHOTO_COUNT);
    }
  }
  return rounds.map((_, index) => summarize(wall[index] ?? [], cpu[index] ?? []));
}

function format(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

function formatTiming(timing: Timing): string {
  return `${format(timing.medianMs)} (min ${format(timing.minMs)}, CPU ${format(timing.cpuMs)})`;
}

function packageVersion(path: string): string {
  return (JSON.parse(readFileSync(join(path, "package.json"), "utf8")) as { version: string })
    .version;
}

// ---- inputs and runtimes

const photoNames = readdirSync(PHOTO_DIR)
  .filter((name) => name.endsWith(".jpg"))
  .sort()
  .slice(0, PHOTO_COUNT);
const photos = photoNames.map((name) => new Uint8Array(readFileSync(join(PHOTO_DIR, name))));

await initNodeImageCodecs();
// transformers.js ships its own onnxruntime-node, and two versions' native libraries cannot load
// into one process. edgecap takes its ONNX Runtime as a parameter, so it runs on that same copy:
// both runtimes then use one native library and one version.
const transformersRequire = createRequire(join(TRANSFORMERS_DIR, "package.json"));
const ort = transformersRequire("onnxruntime-node") as OrtApi;
const ortVersion = packageVersion(
  dirname(transformersRequire.resolve("onnxruntime-node/package.json")),
);
const { env, pipeline, RawImage, Tensor } = await import("@huggingface/transformers");
env.allowRemoteModels = false;
env.localModelPath = `${COMMUNITY_DIR}/`;

/** Session options given to both runtimes alike; one thread avoids ONNX Runtime's spinning pool. */
const SESSION_CONFIGS: { label: string; options: InferenceSession.SessionOptions }[] = [
  { label: "default session options", options: {} },
  { label: "intraOpNumThreads 1", options: { intraOpNumThreads: 1 } },
];

type ImageToText = Awaited<ReturnType<typeof pipeline<"image-to-text">>>;

async function transformersCaption(
  transformers: ImageToText,
  bytes: Uint8Array,
  options: Record<string, unknown>,
) {
  const image = await RawImage.fromBlob(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  return (await transformers(image, { max_new_tokens: MAX_NEW_TOKENS, ...options })) as {
    generated_text: string;
  }[];
}

async function transformersRound(transformers: ImageToText, options: Record<string, unknown>) {
  for (const photo of photos) await transformersCaption(transformers, photo, options);
}

async function edgecapRound(captioner: Captioner, generation: CaptionGenerationOptions) {
  const results: CaptionResult[] = [];
  for (const photo of photos) {
    results.push(
      await captioner.caption(photo, {
        generation: { max_new_tokens: MAX_NEW_TOKENS, ...generation },
      }),
    );
  }
  return results;
}

/** Generated token count per photo (transformers.js: the model's ids minus the start token). */
async function transformersLengths(transformers: ImageToText): Promise<number[]> {
  const lengths: number[] = [];
  for (const photo of photos) {
    const image = await RawImage.fromBlob(new Blob([photo as Uint8Array<ArrayBuffer>]));
    const { pixel_values: pixels } = (await transformers.processor(image)) as {
      pixel_values: InstanceType<typeof Tensor>;
    };
    const ids = (await transformers.model.generate({
      inputs: pixels,
      max_new_tokens: MAX_NEW_TOKENS,
    })) as InstanceType<typeof Tensor>;
    lengths.push((ids.dims[1] as number) - 1);
  }
  return lengths;
}

/** transformers.js 4.x runs one path for num_beams > 1: this checks whether beams come back. */
async function transformersBeamSupport(
  transformers: ImageToText,
  options: Record<string, unknown>,
): Promise<string> {
  const photo = photos[0] as Uint8Array;
  const beams = await transformersCaption(transformers, photo, {
    ...options,
    num_return_sequences: 2,
  }).catch((error: Error) => error);
  if (beams instanceof Error) return `not supported (${beams.message})`;
  const [greedy] = await transformersCaption(transformers, photo, {});
  if (beams.length < 2 && beams[0]?.generated_text === greedy?.generated_text) {
    return `not supported: returned ${beams.length} sequence, identical to greedy`;
  }
  return "supported";
}

// ---- cases

const CASES = [
  { name: "greedy", generation: {}, target: 1.3 },
  { name: "beam search, 3 beams", generation: { num_beams: 3 }, target: 2 },
  {
    name: "diverse beam search, 4 beams in 2 groups",
    generation: { num_beams: 4, num_beam_groups: 2, diversity_penalty: 1 },
    target: 2,
  },
] as const;

const tables: string[] = [];
for (const config of SESSION_CONFIGS) {
  const edgecap = await loadCaptionerPackage(
    directoryPackageSource(join(COMMUNITY_DIR, COMMUNITY_MODEL)),
    ort,
    { sessionOptions: config.options },
  );
  const transformers = await pipeline("image-to-text", COMMUNITY_MODEL, {
    dtype: "fp32",
    device: "cpu",
    session_options: config.options,
  });

  // With random weights the end token rarely wins, so both runtimes should decode the full length.
  const edgecapLengths = (await edgecapRound(edgecap, {})).map(
    (result) => result.captions[0]?.tokens.length ?? 0,
  );
  const lines = [
    `${config.label}; generated tokens per photo (greedy): edgecap ${edgecapLengths.join(", ")}, transformers.js ${(await transformersLengths(transformers)).join(", ")}.`,
    "",
    "| case | edgecap | transformers.js | speedup (wall) | target | result |",
    "| --- | --- | --- | ---: | --- | --- |",
  ];
  for (const testCase of CASES) {
    const support =
      testCase.name === "greedy"
        ? "supported"
        : await transformersBeamSupport(transformers, testCase.generation);
    const target = `>= ${testCase.target}x`;
    if (support !== "supported") {
      const [ours] = await timeAlternating([() => edgecapRound(edgecap, testCase.generation)]);
      lines.push(
        `| ${testCase.name} | ${formatTiming(ours as Timing)} | ${support} | n/a | ${target} | n/a |`,
      );
      continue;
    }
    const [ours, theirs] = (await timeAlternating([
      () => edgecapRound(edgecap, testCase.generation),
      () => transformersRound(transformers, testCase.generation),
    ])) as [Timing, Timing];
    const speedup = theirs.medianMs / ours.medianMs;
    lines.push(
      `| ${testCase.name} | ${formatTiming(ours)} | ${formatTiming(theirs)} | ${speedup.toFixed(2)}x | ${target} | ${speedup >= testCase.target ? "pass" : "FAIL"} |`,
    );
  }
  tables.push(lines.join("\n"));
}

// Cached prefix against cold: the same package with and without a warmed embedding cache.
const prefixPackage = existsSync(join(DEMO_PACKAGE, "manifest.json")) ? DEMO_PACKAGE : TINY_PACKAGE;
const cachedRows: string[] = [];
const mean = (results: CaptionResult[], key: "preprocessMs" | "encodeMs" | "generateMs") =>
  results.reduce((sum, result) => sum + result.timings[key], 0) / results.length;
const stages = (results: CaptionResult[]) =>
  `${format(mean(results, "preprocessMs"))} / ${format(mean(results, "encodeMs"))} / ${format(mean(results, "generateMs"))}`;
for (const [label, dir] of [
  [
    prefixPackage === DEMO_PACKAGE ? "demo-captioner (edgecap)" : "tiny-random (edgecap)",
    prefixPackage,
  ],
  [`${COMMUNITY_MODEL} (community)`, join(COMMUNITY_DIR, COMMUNITY_MODEL)],
] as const) {
  const sessionOptions = { intraOpNumThreads: 1 };
  const cold = await loadCaptionerPackage(directoryPackageSource(dir), ort, { sessionOptions });
  const cached = await loadCaptionerPackage(directoryPackageSource(dir), ort, {
    cache: new MemoryEmbeddingCache(),
    sessionOptions,
  });
  const [coldTime, cachedTime] = (await timeAlternating([
    () => edgecapRound(cold, {}),
    () => edgecapRound(cached, {}),
  ])) as [Timing, Timing];
  const hit = await edgecapRound(cached, {});
  const miss = await edgecapRound(cold, {});
  const ratio = cachedTime.medianMs / coldTime.medianMs;
  cachedRows.push(
    `| ${label} | ${format(coldTime.medianMs)} | ${format(cachedTime.medianMs)} | ${ratio.toFixed(2)}x | ${stages(miss)} | ${stages(hit)} | ${hit.every((r) => r.cache === "hit") ? "hit" : "NOT hit"} | <= 0.3x | ${ratio <= 0.3 ? "pass" : "FAIL"} |`,
  );
}

// ---- report

const cpu = cpus()[0]?.model ?? "unknown CPU";
console.log(
  `Machine: ${cpus().length} cores of ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average ${loadavg()
    .map((v) => v.toFixed(1))
    .join(" / ")} at the end.`,
);
console.log(
  `Both runtimes on onnxruntime-node ${ortVersion} (the copy transformers.js ${packageVersion(TRANSFORMERS_DIR)} ships), with the same session options.`,
);
console.log(
  `Photos: ${photoNames.join(", ")}; max_new_tokens ${MAX_NEW_TOKENS}; ${WARMUP_RUNS} warm-up rounds, then ${RUNS} timed rounds alternating between the runtimes; times per image.`,
);
for (const table of tables) console.log(`\n${table}`);
console.log("\nCached prefix against cold, edgecap only, intraOpNumThreads 1:\n");
console.log(
  "| package | cold | cached prefix | ratio | cold preprocess / encode / generate | cached preprocess / encode / generate | cache | target | result |",
);
console.log("| --- | ---: | ---: | ---: | --- | --- | --- | --- | --- |");
for (const line of cachedRows) console.log(line);
