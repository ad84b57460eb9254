// The slice of the ONNX Runtime JavaScript API that the runtime uses. onnxruntime-web (workerd and
// the browser) and onnxruntime-node share these types through onnxruntime-common, so each host
// passes its own module in and the runtime never imports a host-specific package.
import type { InferenceSession, Tensor } from "onnxruntime-common";

export interface OrtApi {
  InferenceSession: {
    create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  };
  Tensor: typeof Tensor;
}

export type { InferenceSession, Tensor };
