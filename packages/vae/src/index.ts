export { type BetaSchedule, type BetaSpec, betaSchedule } from './beta-schedule.js';
export {
  Decoder,
  type DecoderOptions,
  type DecoderScale,
  decoder,
  decoderKind,
  decoderSchema,
  LIKELIHOODS,
  type Likelihood,
  likelihoodMean,
  likelihoodOf,
} from './decoder.js';
export {
  GaussianEncoder,
  type GaussianEncoderOptions,
  type GaussianEncoderOutput,
  gaussianEncoder,
  gaussianEncoderKind,
  gaussianEncoderSchema,
  gaussianPosterior,
  reparameterize,
  standardNormalKl,
} from './gaussian-encoder.js';
export {
  MultitaskVae,
  type MultitaskVaeOptions,
  type SavedVae,
  savedVaeArtifacts,
  savedVaeFromArtifacts,
  VAE_KIND,
  type VaeLoadReport,
  type VaeLossOutput,
  type VaeMixtureOptions,
  type VaePrior,
  type VaeReconstruction,
  type VaeSample,
  type VaeStepContext,
  type VaeTask,
} from './multitask-vae.js';
export { registerVaeModules, VAE_MODULE_KINDS, VAE_MODULE_TYPES } from './register.js';
export { makeVaeDomains, type VaeDomain, type VaeDomainsOptions } from './vae-domains.js';
export { activeUnits, codesUsed, VAE_METRIC_DIRECTIONS } from './vae-metrics.js';
export { buildVaeRun, type VaeModelOptions, type VaeRunConfig } from './vae-run.js';
export {
  codebookPerplexity,
  nearestCode,
  VectorQuantizer,
  type VectorQuantizerOptions,
  type VectorQuantizerOutput,
  vectorQuantizer,
  vectorQuantizerKind,
  vectorQuantizerSchema,
} from './vector-quantizer.js';
