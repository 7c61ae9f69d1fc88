import * as tf from '@tensorflow/tfjs';
import { listNames, MtlError } from './errors.js';
import { loadNative } from './native.js';
import { registerBackendCapabilities } from './ops/capabilities.js';

// What the ops need to know of tfjs-backend-wasm 4.22's kernels, said once where we load that backend
// (at import, so that a later tf.setBackend('wasm') finds it too).
registerBackendCapabilities('wasm', { slowTransposedMatMul: true });

/** The backends the toolkit can run on, in the order `auto` tries them. */
export const BACKENDS = ['node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendRequest = BackendName | 'auto';

/** tfjs's own name for each of ours. */
const TF_NAME: Record<BackendName, string> = { node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

export interface SelectBackendOptions {
  /** Wins over `MTL_BACKEND`; `auto` (the default) tries node, then wasm, then cpu. */
  backend?: BackendRequest | undefined;
  /** Environment to read `MTL_BACKEND` from; `process.env` by default. */
  env?: Record<string, string | undefined>;
}

async function tryActivate(
  name: BackendName,
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  try {
    if (name === 'node') {
      // tfjs-node is optional: it cannot be installed without internet access at install time.
      // A computed name, so that bundlers for the browser leave this Node-only package out.
      const tfjsNode = '@tensorflow/tfjs-node';
      await import(tfjsNode);
    } else if (name === 'wasm') {
      await import('@tensorflow/tfjs-backend-wasm');
    }
    const ok = await tf.setBackend(TF_NAME[name]);
    if (!ok) return `tf.setBackend('${TF_NAME[name]}') returned false`;
    await tf.ready();
    // The optional native BLAS kernels (@mtl/native) replace wasm's matMuls when they load.
    if (name === 'wasm') await loadNative(env);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
}

/**
 * Chooses and activates the tfjs backend: the explicit option, else `MTL_BACKEND`, else `auto`
 * (tfjs-node if it loads, else wasm, else cpu). An explicit backend that cannot load is an error.
 * Also silences tfjs's production-mode banner.
 * @example
 * const name = await selectBackend();              // 'wasm' on a machine without tfjs-node
 * await selectBackend({ backend: 'cpu' });         // force the plain JS backend
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendName> {
  // No `process` in a browser: there the environment is empty and `auto` applies.
  const env = options.env ?? (typeof process === 'undefined' ? {} : process.env);
  const fromEnv = env.MTL_BACKEND?.trim() || undefined;
  const requested: string = options.backend ?? fromEnv ?? 'auto';
  const place =
    options.backend !== undefined ? 'backend option' : fromEnv !== undefined ? 'MTL_BACKEND' : 'backend';
  if (requested !== 'auto' && !isBackendName(requested)) {
    throw new MtlError(
      'UNKNOWN_BACKEND',
      `unknown backend "${requested}" (known: auto, ${listNames(BACKENDS)})`,
      {
        place,
      },
    );
  }
  tf.env().set('PROD', true);
  const current = currentBackend();
  if (isBackendName(requested)) {
    if (current === requested) return requested;
    const failure = await tryActivate(requested, env);
    if (failure !== undefined) {
      throw new MtlError('BACKEND_UNAVAILABLE', `backend "${requested}" could not be loaded: ${failure}`, {
        place,
      });
    }
    return requested;
  }
  for (const name of BACKENDS) {
    if (current === name) return name;
    if ((await tryActivate(name, env)) === undefined) return name;
  }
  throw new MtlError('BACKEND_UNAVAILABLE', 'no tfjs backend could be loaded', { place });
}

function isBackendName(name: string): name is BackendName {
  return (BACKENDS as readonly string[]).includes(name);
}

/** Our name of the active tfjs backend, or undefined when tfjs uses one we do not manage. */
export function currentBackend(): BackendName | undefined {
  let tfName: string | undefined;
  try {
    tfName = tf.getBackend();
  } catch {
    return undefined;
  }
  return BACKENDS.find((b) => TF_NAME[b] === tfName);
}
