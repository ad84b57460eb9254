// A .wasm import compiled by the bundler (wrangler's CompiledWasm rule) yields a WebAssembly.Module.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
