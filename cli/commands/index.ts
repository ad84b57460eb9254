// The command table. Commands load lazily, so `edgecap evaluate` never loads ONNX Runtime.
import type { Command } from "../command.ts";

export const commands: Record<string, () => Promise<Command>> = {
  evaluate: async () => (await import("./evaluate.ts")).command,
  caption: async () => (await import("./caption.ts")).command,
  clipscore: async () => (await import("./clipscore.ts")).command,
  df: async () => (await import("./df.ts")).command,
  embeddings: async () => (await import("./embeddings.ts")).command,
  experiment: async () => (await import("./experiment.ts")).command,
};
