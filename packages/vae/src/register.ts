import { registerModule } from '@mtl/tasks';
import { Decoder } from './decoder.js';
import { GaussianEncoder } from './gaussian-encoder.js';
import { VectorQuantizer } from './vector-quantizer.js';

/**
 * The module types of this package, by their registry key.
 * @example
 * VAE_MODULE_TYPES; // ['gaussianEncoder', 'vaeDecoder', 'vectorQuantizer']
 */
export const VAE_MODULE_TYPES = ['gaussianEncoder', 'vaeDecoder', 'vectorQuantizer'] as const;

/**
 * Registers the VAE modules with @mtl/tasks' module registry, so that `moduleFromConfig` (and
 * models saved with them) can rebuild them. Safe to call more than once.
 * @example
 * registerVaeModules();
 * moduleFromConfig({ type: 'gaussianEncoder', inputSize: 16, latentSize: 2 });
 */
export function registerVaeModules(): void {
  registerModule('gaussianEncoder', GaussianEncoder.fromConfig, { override: true });
  registerModule('vaeDecoder', Decoder.fromConfig, { override: true });
  registerModule('vectorQuantizer', VectorQuantizer.fromConfig, { override: true });
}
