// Model files import as ArrayBuffers through the wrangler Data rule for **/*.onnx.
declare module "*.onnx" {
  const bytes: ArrayBuffer;
  export default bytes;
}
