import { registerModuleKind } from '@mtl/tasks';
import { decoderKind } from './decoder.js';
import { gaussianEncoderKind } from './gaussian-encoder.js';
import { vectorQuantizerKind } from './vector-quantizer.js';

/**
 * The module kinds of this package (registry entries with their options schemas).
 * @example
 * VAE_MODULE_KINDS.map((k) => k.type); // ['gaussianEncoder', 'vaeDecoder', 'vectorQuantizer']
 */
export const VAE_MODULE_KINDS = [gaussianEncoderKind, decoderKind, vectorQuantizerKind] as const;

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
  for (const kind of VAE_MODULE_KINDS) registerModuleKind(kind, { override: true });
}
