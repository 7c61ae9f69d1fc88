// Runs tfjs-backend-wasm's multithreaded build (tfjs-backend-wasm-threaded-simd.wasm) in Node.
//
// tfjs turns it off in Node (WASM_HAS_MULTITHREAD_SUPPORT is forced false there, tfjs issue #3830)
// and three things stand in the way when the flag is forced on:
// 1. the pthread worker script and the module factory are handed to workers as Blob URLs, which
//    Node's worker_threads cannot load: here they are written to temporary files instead, the
//    factory with the bundler's free variables (`require$$0`, `commonjsGlobal`, tslib helpers)
//    defined in front of it;
// 2. the backend caps its thread pool at `emscripten_num_logical_cores() / 2`, that is
//    `os.cpus().length / 2` in Node: one thread on a 2-vCPU machine whatever `setThreadsCount`
//    asks, so `os.cpus` reports twice the wanted count while the module initialises;
// 3. a wasm backend that is already initialised (single-threaded) is torn down and re-created.
// The workers are unref'd by Emscripten, so they do not keep the process alive.
import type { Blob as NodeBlob } from 'node:buffer';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';

const PRELUDE = [
  "var require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'), require$$4 = require('os');",
  'var commonjsGlobal = globalThis;',
  'var __values = (o) => o[Symbol.iterator]();',
  'var __read = (o, n) => { const a = []; for (const v of o) { if (n !== undefined && a.length >= n) break; a.push(v); } return a; };',
  'var __spreadArray = (to, from) => to.concat(Array.prototype.slice.call(from));',
  '',
].join('\n');

const LOAD_FACTORY =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';

interface EngineInternals {
  registry: Record<string, unknown>;
  registryFactory: Record<
    string,
    { factory: () => tf.KernelBackend | Promise<tf.KernelBackend>; priority: number }
  >;
}

/**
 * Activates the wasm backend with `threads` XNNPACK threads (the calling thread counts as one).
 * Returns the thread count the backend reports.
 * @example
 * const threads = await activateThreadedWasm(2); // 2 on success
 */
export async function activateThreadedWasm(threads: number): Promise<number> {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.registry.wasm !== undefined) {
    if (tf.getBackend() === 'wasm') await tf.setBackend('cpu');
    const { factory, priority } = engine.registryFactory.wasm!;
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', factory, priority);
  }
  const dir = mkdtempSync(join(os.tmpdir(), 'mtl-wasm-threads-'));
  const texts = new WeakMap<object, string>();
  let factoryPath = '';
  let files = 0;
  const RealBlob = globalThis.Blob as unknown as typeof NodeBlob;
  class CapturingBlob extends RealBlob {
    constructor(...args: ConstructorParameters<typeof NodeBlob>) {
      super(...args);
      const parts = args[0] ?? [];
      const text = parts.map(String).join('');
      texts.set(this, text);
      if (text.startsWith('var WasmBackendModuleThreadedSimd')) {
        factoryPath = join(dir, 'factory.cjs');
        writeFileSync(factoryPath, PRELUDE + text);
      }
    }
  }
  const realCreate = URL.createObjectURL;
  const realCpus = os.cpus;
  globalThis.Blob = CapturingBlob as unknown as typeof Blob;
  URL.createObjectURL = (blob: NodeBlob) => {
    const text = texts.get(blob);
    if (text === undefined) return realCreate(blob);
    const path = join(dir, `worker-${files++}.cjs`);
    writeFileSync(path, text.replace(LOAD_FACTORY, `importScripts(${JSON.stringify(factoryPath)});`));
    return path;
  };
  os.cpus = () => {
    const cpus = realCpus();
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]!);
  };
  try {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
    await tf.ready();
  } finally {
    globalThis.Blob = RealBlob as unknown as typeof Blob;
    URL.createObjectURL = realCreate;
    os.cpus = realCpus;
    // The pool's 8 workers have loaded the files by the time the backend is ready.
    rmSync(dir, { recursive: true, force: true });
  }
  return wasm.getThreadsCount();
}
