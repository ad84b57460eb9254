// The community captioner fixture must stay loadable by transformers.js (the layout's reference
// reader): its image-to-text pipeline loads the folder, ignores the extra cross_attentions.{i}
// outputs, and generates PyTorch's greedy ids from the fixture's pixel values.
// transformers.js ships its own onnxruntime-node, whose native library cannot share a process with
// the one edgecap's tests load, so the check runs in a child Node process.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../helpers/paths.ts";

const COMMUNITY_DIR = join(REPO_ROOT, "test/fixtures/community");
const FIXTURE_DIR = join(COMMUNITY_DIR, "parity/vit-gpt2-tiny-random");

const CHILD_SCRIPT = `
import { readFileSync } from "node:fs";
import { env, pipeline, Tensor } from "@huggingface/transformers";
const [modelsDir, pixelsPath, maxNewTokens] = process.argv.slice(1);
env.allowRemoteModels = false;
env.localModelPath = modelsDir;
const captioner = await pipeline("image-to-text", "vit-gpt2-tiny-random", { dtype: "fp32", device: "cpu" });
const bytes = readFileSync(pixelsPath);
const pixels = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
const ids = await captioner.model.generate({
  inputs: new Tensor("float32", pixels, [1, 3, 112, 112]),
  max_new_tokens: Number(maxNewTokens),
});
const session = captioner.model.sessions.decoder_model_merged;
console.log(JSON.stringify({
  ids: ids.tolist()[0].map(Number),
  sessions: Object.keys(captioner.model.sessions),
  decoderOutputs: session.outputNames,
}));
`;

describe("transformers.js on the community fixture", () => {
  it("generates PyTorch's greedy ids", () => {
    const fixture = JSON.parse(readFileSync(join(FIXTURE_DIR, "fixture.json"), "utf8")) as {
      greedy: { max_new_tokens: number; token_ids: number[] };
    };
    const child = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        CHILD_SCRIPT,
        `${COMMUNITY_DIR}/`,
        join(FIXTURE_DIR, "pixel_values.f32"),
        String(fixture.greedy.max_new_tokens),
      ],
      { cwd: REPO_ROOT, encoding: "utf8" },
    );
    expect(child.status, child.stderr).toBe(0);
    const output = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "{}") as {
      ids: number[];
      sessions: string[];
      decoderOutputs: string[];
    };

    expect(output.sessions).toEqual(["model", "decoder_model_merged"]);
    expect(output.decoderOutputs).toContain("cross_attentions.0");
    // The first id is the decoder start token, and PyTorch's list contains the generated ids only.
    expect(output.ids).toEqual([50256, ...fixture.greedy.token_ids]);
  });
});
