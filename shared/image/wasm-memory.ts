// Helpers for the C heap of a wasm codec built with wasi-libc (exports memory, malloc and free).

export interface WasmHeapExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(pointer: number): void;
}

/** Source of a codec: a compiled module (required in workerd) or the .wasm bytes. */
export type WasmSource = WebAssembly.Module | BufferSource;

export async function instantiateWasm(
  source: WasmSource,
  imports: WebAssembly.Imports,
): Promise<WebAssembly.Instance> {
  // workerd forbids compiling wasm from bytes at run time, so it must receive a WebAssembly.Module
  // that the bundler compiled from an imported .wasm file; Node and browsers can take bytes.
  if (source instanceof WebAssembly.Module) {
    return await WebAssembly.instantiate(source, imports);
  }
  const { instance } = await WebAssembly.instantiate(source, imports);
  return instance;
}

/** Copies bytes into a fresh malloc'd block; the caller frees it. */
export function copyToHeap(heap: WasmHeapExports, bytes: Uint8Array): number {
  const pointer = heap.malloc(bytes.length);
  if (pointer === 0) throw new RangeError(`wasm malloc of ${bytes.length} bytes failed`);
  new Uint8Array(heap.memory.buffer, pointer, bytes.length).set(bytes);
  return pointer;
}

/** Copies a heap block out to JS memory, which survives later heap growth and frees. */
export function copyFromHeap(heap: WasmHeapExports, pointer: number, length: number): Uint8Array {
  return new Uint8Array(heap.memory.buffer, pointer, length).slice();
}

/** WASI stubs for a codec that never touches files: writes to stderr are collected as text. */
export function wasiStubs(
  getMemory: () => WebAssembly.Memory,
  onOutput: (text: string) => void,
): Record<string, (...args: number[]) => number> {
  const EBADF = 8;
  return {
    fd_write(_fd: number, iovs: number, iovsLength: number, writtenPointer: number): number {
      const view = new DataView(getMemory().buffer);
      let written = 0;
      for (let i = 0; i < iovsLength; i++) {
        const base = view.getUint32(iovs + i * 8, true);
        const length = view.getUint32(iovs + i * 8 + 4, true);
        onOutput(new TextDecoder().decode(new Uint8Array(getMemory().buffer, base, length)));
        written += length;
      }
      view.setUint32(writtenPointer, written, true);
      return 0;
    },
    fd_close: () => EBADF,
    fd_seek: () => EBADF,
    environ_sizes_get(countPointer: number, sizePointer: number): number {
      const view = new DataView(getMemory().buffer);
      view.setUint32(countPointer, 0, true);
      view.setUint32(sizePointer, 0, true);
      return 0;
    },
    environ_get: () => 0,
    proc_exit(code: number): number {
      throw new Error(`wasm codec called exit(${code})`);
    },
  };
}
