// Edge service benchmarks, run with `npx node bench/edge.bench.ts` (or `npm run bench`):
// 1. caption latency of the default captioner in workerd, through `npm start`'s wrangler dev. It is
//    timed from this process because workerd's clocks stand still during CPU work. The same package
//    runs in Node with onnxruntime-node and with onnxruntime-web (wasm, one thread). Target: workerd
//    within 1.3x of onnxruntime-web in Node, the same ONNX Runtime build.
// 2. embedding-cache hit against miss in workerd;
// 3. a load test: bounded concurrent caption requests from this process, zero errors expected.
// Every workerd "miss" request sends a photo with one extra byte after the JPEG end marker, so
// its sha256 (the cache key) is new while the decoded pixels stay the same.
// Prints markdown tables for docs/benchmarks.md.
import { readFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { directoryPackageSource, initNodeImageCodecs } from "../cli/node-host.ts";
import { OnnxCaptioner } from "../shared/runtime/captioner.ts";
import type { OrtApi } from "../shared/runtime/ort.ts";
import { startEdgeServer } from "../test/helpers/edge-server.ts";
import { OWNER_DATA_DIR, REPO_ROOT } from "../test/helpers/paths.ts";

const PHOTO_DIR = join(OWNER_DATA_DIR, "data/coco-mini/val2017");
const PHOTO = "000000000139.jpg";
const MAX_NEW_TOKENS = 20;
const WARMUP = 2;
const RUNS = 9;
const LOAD_REQUESTS = 48;
const LOAD_CONCURRENCY = 4;
const LOAD_TIME_LIMIT_MS = 120_000;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

let uniqueCounter = 0;
/** Copies the photo with 4 extra trailing bytes, so its sha256 is new to the cache. */
function uniqueCopy(photo: Uint8Array): Uint8Array {
  uniqueCounter++;
  const copy = new Uint8Array(photo.length + 4);
  copy.set(photo);
  new DataView(copy.buffer).setUint32(photo.length, uniqueCounter);
  return copy;
}

async function timeRuns(run: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return times;
}

async function postCaption(
  baseUrl: string,
  image: Uint8Array,
): Promise<{ status: number; cache: string | null }> {
  const response = await fetch(`${baseUrl}/v1/captions?max_new_tokens=${MAX_NEW_TOKENS}`, {
    method: "POST",
    headers: { "content-type": "image/jpeg" },
    body: image as Uint8Array<ArrayBuffer>,
  });
  await response.arrayBuffer();
  return { status: response.status, cache: response.headers.get("x-edgecap-cache") };
}

async function nodeCaptioner(ort: OrtApi, packageDir: string): Promise<OnnxCaptioner> {
  return OnnxCaptioner.load(directoryPackageSource(packageDir), ort);
}

async function main(): Promise<void> {
  const photo = new Uint8Array(await readFile(join(PHOTO_DIR, PHOTO)));
  const server = await startEdgeServer();
  try {
    const models = (await (await fetch(`${server.baseUrl}/v1/models`)).json()) as {
      models: { id: string; name?: string; kind: string; default: boolean; source?: string }[];
    };
    const model = models.models.find((entry) => entry.kind === "captioner" && entry.default);
    if (model?.name === undefined || model.source === undefined)
      throw new Error("no default captioner");
    const packageDir = join(REPO_ROOT, model.source, model.name);

    // workerd through wrangler dev.
    const workerdMiss = await timeRuns(async () => {
      const result = await postCaption(server.baseUrl, uniqueCopy(photo));
      if (result.status !== 200 || result.cache !== "miss")
        throw new Error(`miss run got ${result.status} ${result.cache}`);
    });
    const hitImage = uniqueCopy(photo);
    await postCaption(server.baseUrl, hitImage);
    const workerdHit = await timeRuns(async () => {
      const result = await postCaption(server.baseUrl, hitImage);
      if (result.status !== 200 || result.cache !== "hit")
        throw new Error(`hit run got ${result.status} ${result.cache}`);
    });

    // Node, the same package, no cache (every run computes the prefix, like a workerd miss).
    await initNodeImageCodecs();
    const ortNode = (await import("onnxruntime-node")) as unknown as OrtApi;
    const ortWeb = (await import("onnxruntime-web")) as unknown as OrtApi & {
      env: { wasm: { numThreads: number } };
    };
    ortWeb.env.wasm.numThreads = 1;
    const nodeNative = await nodeCaptioner(ortNode, packageDir);
    const nodeWasm = await nodeCaptioner(ortWeb, packageDir);
    const generation = { max_new_tokens: MAX_NEW_TOKENS };
    const nativeTimes = await timeRuns(async () => {
      await nodeNative.caption(uniqueCopy(photo), { generation });
    });
    const wasmTimes = await timeRuns(async () => {
      await nodeWasm.caption(uniqueCopy(photo), { generation });
    });

    // Load test: LOAD_CONCURRENCY workers share LOAD_REQUESTS requests over 8 COCO photos.
    const names = (await import("node:fs"))
      .readdirSync(PHOTO_DIR)
      .filter((name) => name.endsWith(".jpg"))
      .sort()
      .slice(0, 8);
    const loadPhotos = await Promise.all(
      names.map(async (name) => new Uint8Array(await readFile(join(PHOTO_DIR, name)))),
    );
    const latencies: number[] = [];
    let errors = 0;
    let next = 0;
    const loadStarted = performance.now();
    const worker = async () => {
      while (next < LOAD_REQUESTS && performance.now() - loadStarted < LOAD_TIME_LIMIT_MS) {
        const index = next++;
        const started = performance.now();
        try {
          const result = await postCaption(
            server.baseUrl,
            loadPhotos[index % loadPhotos.length] as Uint8Array,
          );
          if (result.status !== 200) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - started);
      }
    };
    await Promise.all(Array.from({ length: LOAD_CONCURRENCY }, worker));
    const loadSeconds = (performance.now() - loadStarted) / 1000;

    const ratio = median(workerdMiss) / median(wasmTimes);
    const ms = (value: number) => `${value.toFixed(1)} ms`;
    console.log(
      `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? "unknown"}), Node ${process.version}, load average ${loadavg()
        .map((value) => value.toFixed(1))
        .join(" / ")}`,
    );
    console.log(
      `Model: ${model.id} (${model.source}/${model.name}), photo ${PHOTO} (640x426), greedy, max_new_tokens ${MAX_NEW_TOKENS}; ${WARMUP} warm-up runs, ${RUNS} timed runs\n`,
    );
    console.log("| runtime | cache | median | min | max |");
    console.log("| --- | --- | ---: | ---: | ---: |");
    const row = (label: string, cache: string, times: number[]) =>
      console.log(
        `| ${label} | ${cache} | ${ms(median(times))} | ${ms(Math.min(...times))} | ${ms(Math.max(...times))} |`,
      );
    row("workerd (wrangler dev, HTTP, timed by the client)", "miss", workerdMiss);
    row("workerd (wrangler dev, HTTP, timed by the client)", "hit", workerdHit);
    row("Node, onnxruntime-node", "off", nativeTimes);
    row("Node, onnxruntime-web wasm, 1 thread", "off", wasmTimes);
    console.log(
      `\nworkerd miss / Node wasm: ${ratio.toFixed(2)}x (target <= 1.3x: ${ratio <= 1.3 ? "pass" : "FAIL"}); workerd miss / Node native: ${(median(workerdMiss) / median(nativeTimes)).toFixed(2)}x; workerd hit / miss: ${(median(workerdHit) / median(workerdMiss)).toFixed(2)}x`,
    );
    console.log(
      `\nLoad: ${latencies.length} requests, ${LOAD_CONCURRENCY} concurrent, 8 photos cycled (cache hits after the first round): ${errors} errors, ${(latencies.length / loadSeconds).toFixed(2)} requests/s, latency median ${ms(median(latencies))}, p95 ${ms(percentile(latencies, 95))}, ${loadSeconds.toFixed(1)} s in all`,
    );
    if (errors > 0) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

await main();
