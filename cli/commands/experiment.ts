// `edgecap experiment`: captions the datasets of an experiment config with every model and config,
// then scores the whole corpus and writes the report data (`edgecap.report/v1`) for the site.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type Command, EXIT_DATA_ERROR, EXIT_OK, UsageError } from "../command.ts";
import { ConfigError, type LoadedConfig, loadExperimentConfig } from "../experiment/config.ts";
import { type LoadedDataset, loadDataset } from "../experiment/dataset.ts";
import { ExperimentError } from "../experiment/errors.ts";
import { findShardFolders, mergeShards } from "../experiment/merge.ts";
import type { ModelFactories } from "../experiment/models.ts";
import type { ProgressStream } from "../experiment/progress.ts";
import { writeReport } from "../experiment/report.ts";
import { runCaptioning } from "../experiment/run.ts";
import { parseShard, type Shard, shardFolder } from "../experiment/shard.ts";
import { parseOptions } from "./evaluate.ts";

const USAGE = `Usage: edgecap experiment --config FILE [--out DIR] [--shard i/n] [--resume]
       edgecap experiment --config FILE [--out DIR] --merge DIR...

Captions every dataset of the config with every model under every decoding config (and LLaVA
instruction), appending rows to DIR/predictions/<dataset>/<model>.jsonl, then scores the corpus
(CIDEr-D, BLEU-1..4, ROUGE-L, CLIPScore, RefCLIPScore, length) and writes DIR/report.json.
docs/report-data.md describes every file.

Options:
  --config FILE   experiment config (edgecap.experiment/v1), such as experiments/default.json
  --out DIR       output folder (default: runs/<config id>)
  --shard i/n     caption only shard i of n (0-based; image k of a dataset goes to shard k mod n)
                  into DIR/shards/i-of-n; no scores until --merge
  --resume        continue an interrupted run in DIR: rows already written are skipped
  --merge DIR...  merge complete shard runs (shard folders, or DIR itself for all of DIR/shards),
                  then score and write the report; takes one or more folders

Exit status: 0 done; 1 invalid config or data, or an output folder that does not fit the options;
2 invalid usage; 3 a model failed or an internal error (run.json then says "failed").`;

const OPTIONS = {
  config: { type: "string" },
  out: { type: "string" },
  shard: { type: "string" },
  resume: { type: "boolean", default: false },
  merge: { type: "string", multiple: true },
} as const;

export const command: Command = {
  summary: "Run an experiment grid and write the report data for the site",
  usage: USAGE,
  run: (argv) => runExperimentCommand(argv),
};

export interface ExperimentCommandDependencies {
  factories?: ModelFactories;
  stderr?: ProgressStream;
  stdout?: { write(text: string): unknown };
}

/** Runs the command; tests pass model doubles through `deps`. */
export async function runExperimentCommand(
  argv: string[],
  deps: ExperimentCommandDependencies = {},
): Promise<number> {
  const { values, positionals } = parseOptions(() =>
    parseArgs({ args: argv, options: OPTIONS, allowPositionals: true }),
  );
  if (values.config === undefined || values.config === "")
    throw new UsageError("missing --config FILE");

  // `--merge a b c` leaves b and c as positionals; without --merge there are none.
  const mergeDirs = values.merge === undefined ? null : [...values.merge, ...positionals];
  if (mergeDirs === null && positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`);
  }
  if (mergeDirs !== null && (values.shard !== undefined || values.resume)) {
    throw new UsageError("--merge cannot be combined with --shard or --resume");
  }
  let shard: Shard | null = null;
  if (values.shard !== undefined) {
    try {
      shard = parseShard(values.shard);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }

  const stderr = deps.stderr ?? process.stderr;
  const stdout = deps.stdout ?? process.stdout;
  const factories =
    deps.factories ?? (await import("../experiment/factories.ts")).nodeModelFactories;

  try {
    const loaded = await loadExperimentConfig(values.config);
    const outDir = resolve(values.out ?? `runs/${loaded.config.id}`);

    if (mergeDirs !== null) {
      const datasets = await loadDatasets(loaded);
      const folders = await findShardFolders(mergeDirs);
      stderr.write(`merging ${folders.length} shard run(s) into ${outDir}\n`);
      const run = await mergeShards(loaded, datasets, folders, outDir);
      await writeReport({ loaded, datasets, run, outDir }, { factories, stderr });
      stdout.write(`${outDir}/report.json\n`);
      return EXIT_OK;
    }

    if (shard !== null) {
      const runDir = shardFolder(outDir, shard);
      await runCaptioning({ loaded, runDir, shard, resume: values.resume }, { factories, stderr });
      stderr.write(
        `shard ${shard.index}/${shard.count} complete in ${runDir}; once every shard is, run: edgecap experiment --config ${values.config} --out ${outDir} --merge ${outDir}\n`,
      );
      stdout.write(`${runDir}\n`);
      return EXIT_OK;
    }

    const { metadata, datasets } = await runCaptioning(
      { loaded, runDir: outDir, shard: null, resume: values.resume },
      { factories, stderr },
    );
    await writeReport({ loaded, datasets, run: metadata, outDir }, { factories, stderr });
    stdout.write(`${outDir}/report.json\n`);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof ConfigError) {
      const lines = [
        `edgecap experiment: invalid config "${values.config}" (${error.problems.length} problem${error.problems.length === 1 ? "" : "s"}):`,
      ];
      for (const problem of error.problems) lines.push(`  ${problem.path}: ${problem.message}`);
      stderr.write(`${lines.join("\n")}\n`);
      return EXIT_DATA_ERROR;
    }
    if (error instanceof ExperimentError) {
      stderr.write(`edgecap experiment: ${error.message}\n`);
      return EXIT_DATA_ERROR;
    }
    throw error;
  }
}

async function loadDatasets(loaded: LoadedConfig): Promise<LoadedDataset[]> {
  const datasets: LoadedDataset[] = [];
  for (let d = 0; d < loaded.config.datasets.length; d++)
    datasets.push(await loadDataset(loaded, d));
  return datasets;
}
