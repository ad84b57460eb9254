// The model factories of the real CLI: ONNX packages from disk through the Node host of the runtime,
// and OpenAI-compatible LLaVA servers. Tests pass doubles instead.
import { z } from "zod";
import { CHAT_BACKEND_KINDS, OpenAIChatBackend } from "../../shared/llava/index.ts";
import type { ChatBackendKind } from "../../shared/llava/types.ts";
import { OnnxCaptioner } from "../../shared/runtime/captioner.ts";
import { OnnxClip } from "../../shared/runtime/clip-model.ts";
import { MemoryEmbeddingCache } from "../../shared/runtime/embedding-cache.ts";
import { directoryPackageSource, initNodeImageCodecs, loadNodeOrt } from "../node-host.ts";
import { ExperimentError } from "./errors.ts";
import type { CaptionModel, ClipModel, ModelFactories } from "./models.ts";

/** The `backend` object of a llava-backend model. */
const chatBackendSchema = z.strictObject({
  kind: z.string(),
  /** Server root, such as http://gpu-host:8000. */
  baseUrl: z.string().url(),
  model: z.string().min(1).optional(),
  /** Environment variable that contains the API key; the key itself never goes into a config. */
  apiKeyEnv: z.string().min(1).optional(),
  timeoutMs: z.number().positive().optional(),
});

export const nodeModelFactories: ModelFactories = {
  async captioner(packageDir) {
    await initNodeImageCodecs();
    const { ort } = await loadNodeOrt();
    const captioner = await OnnxCaptioner.load(directoryPackageSource(packageDir), ort, {
      cache: new MemoryEmbeddingCache(),
    });
    const model: CaptionModel = {
      id: captioner.id,
      sha256: captioner.sha256,
      family: "prefix-gpt2",
      async caption(image, request) {
        const result = await captioner.caption(image, {
          generation: request.decoding,
          attention: request.attention,
          imageId: request.imageId,
        });
        return {
          captions: result.captions.map((hypothesis) => hypothesis.text),
          attention: result.attention,
          timings: {
            preprocess_ms: result.timings.preprocessMs,
            encode_ms: result.timings.encodeMs,
            generate_ms: result.timings.generateMs,
          },
        };
      },
    };
    return model;
  },

  async clip(packageDir) {
    await initNodeImageCodecs();
    const { ort } = await loadNodeOrt();
    const clip = await OnnxClip.load(directoryPackageSource(packageDir), ort);
    const model: ClipModel = {
      id: clip.id,
      sha256: clip.sha256,
      embedImage: async (image) => (await clip.embedImageBytes(image)).embedding,
      // The scorer puts the prefix in front of each text already.
      embedTexts: (texts) => clip.embedCaptions(texts, ""),
    };
    return model;
  },

  async llavaBackend(backend) {
    if (backend.kind === "workers-ai") {
      throw new ExperimentError(
        'backend kind "workers-ai" needs a Workers AI binding, which only a Worker has; run the experiment against an OpenAI-compatible server (vllm, sglang, ...) instead',
      );
    }
    if (!(CHAT_BACKEND_KINDS as readonly string[]).includes(backend.kind)) {
      throw new ExperimentError(
        `unknown backend kind "${backend.kind}"; expected one of ${CHAT_BACKEND_KINDS.join(", ")}`,
      );
    }
    const parsed = chatBackendSchema.safeParse(backend);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ExperimentError(`invalid backend ${issue?.path.join("/")}: ${issue?.message}`);
    }
    const { kind, baseUrl, model, apiKeyEnv, timeoutMs } = parsed.data;
    const apiKey = apiKeyEnv === undefined ? undefined : process.env[apiKeyEnv];
    if (apiKeyEnv !== undefined && (apiKey === undefined || apiKey === "")) {
      throw new ExperimentError(
        `backend apiKeyEnv names ${apiKeyEnv}, but that environment variable is not set`,
      );
    }
    return new OpenAIChatBackend({
      kind: kind as ChatBackendKind,
      baseUrl,
      // stdout carries only the result path, so the backend's retry and failure lines go to stderr.
      log: (level, msg, fields) => {
        process.stderr.write(`${JSON.stringify({ level, msg, ...fields })}\n`);
      },
      ...(model === undefined ? {} : { model }),
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  },
};
