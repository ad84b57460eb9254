import { expect, it } from "vitest";
import { workerdOrt } from "../../functions/onnx/workerd-ort.ts";
import matmulModel from "../fixtures/onnx/matmul.onnx";

it("onnxruntime-web runs a MatMul inside workerd", async () => {
  const ort = workerdOrt();
  const session = await ort.InferenceSession.create(new Uint8Array(matmulModel));
  const x = new ort.Tensor("float32", Float32Array.from([1, 2, 3]), [1, 3]);

  const { y } = await session.run({ x });

  // [1 2 3] x [[0 1] [2 3] [4 5]] = [16 22]
  expect(y?.dims).toEqual([1, 2]);
  expect(Array.from(y?.data as Float32Array)).toEqual([16, 22]);
});
