import { BACKENDS } from '@mtl/core';
import { FASHION_DOMAINS, FIELD_KINDS, SCALE_METHODS, SCHEDULER_NAMES } from '@mtl/data';
import { BUILT_IN_MODULE_KINDS, type ModuleKind, slicesSchema, TASK_KINDS } from '@mtl/tasks';
import { aggregatorSchema, trainerConfigSchema } from '@mtl/training';
import { VAE_MODULE_KINDS } from '@mtl/vae';
import { z } from 'zod';

/**
 * Names of sources, modules, tasks and splits become parts of score keys and file names:
 * letters, digits, `_`, `-`, `.`; never `/`.
 */
const name = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_.-]*$/,
    'a name has letters, digits, "_", "-" or "." and starts with a letter or "_"',
  )
  .max(100);
const positiveInt = z.number().int().positive();
const finite = z.number().finite();
const seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

const splitRatios = z
  .record(name, z.number().min(0).max(1))
  .refine((r) => Object.keys(r).length > 0, 'give at least one split')
  .refine(
    (r) => Math.abs(Object.values(r).reduce((a, b) => a + b, 0) - 1) < 1e-6,
    'split ratios must sum to 1',
  );
const DEFAULT_SPLITS = { train: 0.8, valid: 0.1, test: 0.1 };

// ---- data -------------------------------------------------------------------------------------
/**
 * Scaling per field or regression label of a source (`standard`, `minmax`, `none`), fitted on its
 * train split only and saved with the model; regression outputs and metrics are given back in the
 * label's original units.
 */
const scaleSchema = z.record(name, z.enum(SCALE_METHODS)).optional();

const toySource = z.strictObject({
  kind: z.enum(['circle', 'square', 'inv_circle']),
  /** Points before splitting. */
  n: positiveInt.max(10_000_000).default(1000),
  radius: z.number().positive().finite().default(1),
  splits: splitRatios.default(DEFAULT_SPLITS),
  /** Input field name; default `<kind>_data` (the tutorial's `circle_data`). */
  field: name.optional(),
  /** Label name; default `<kind>_task`. */
  label: name.optional(),
  /** Seed of this source; default derived from the config's seed and the source name. */
  seed: seed.optional(),
  scale: scaleSchema,
});

const logisticSource = z
  .strictObject({
    kind: z.literal('logistic_tasks'),
    tasks: positiveInt.max(1024).default(3),
    sizes: z.union([positiveInt.max(10_000_000), z.array(positiveInt.max(10_000_000)).min(1)]).default(600),
    dim: positiveInt.max(100_000).default(2),
    testRatio: z.number().gt(0).lt(1).default(0.2),
    inputScale: z.number().positive().finite().default(5),
    linkNoise: z.number().min(0).finite().default(0.01),
    weightScale: z.number().min(0).finite().default(0.1),
    taskNames: z.array(name).min(1).optional(),
    field: name.default('x'),
    seed: seed.optional(),
    scale: scaleSchema,
  })
  .refine(
    (c) => c.tasks * (Array.isArray(c.sizes) ? Math.max(...c.sizes) : c.sizes) * c.dim <= 1e8,
    'tasks × sizes × dim must stay within 10^8 values',
  );

/** a_j or b_j of mmoe_synthetic's sine terms: one number per sine, or a seeded N(0, 1) draw. */
const sineParams = z
  .union([z.array(finite).max(1000), z.literal('normal')], {
    error: 'expected a list of numbers (one per sine) or "normal" (drawn from N(0, 1))',
  })
  .optional();

/** The MMoE paper's synthetic benchmark (@mtl/data's makeMmoeSynthetic): two regression tasks of correlation p. */
const mmoeSyntheticFields = z.strictObject({
  kind: z.literal('mmoe_synthetic'),
  /** Rows before splitting. */
  n: positiveInt.max(1_000_000).default(10_000),
  /** The tasks' correlation p (cosine of their weight vectors). */
  correlation: z.number().min(-1).max(1).default(1),
  /** Input dimension d. */
  dim: z.number().int().min(2).max(10_000).default(100),
  /** Scale c of the weight vectors (their norm). */
  weightScale: finite.default(1),
  /** Number m of sine terms. */
  sines: z.number().int().min(0).max(1000).default(10),
  /** a_j of the sine terms (m values, or `normal`: drawn from N(0, 1) by the seed); default a_j = j. */
  alphas: sineParams,
  /** b_j of the sine terms (as `alphas`); default b_j = j². */
  betas: sineParams,
  /** Variance of the Gaussian label noise. */
  noiseVariance: z.number().min(0).finite().default(0.01),
  splits: splitRatios.default(DEFAULT_SPLITS),
  field: name.default('x'),
  /** The two labels' names. */
  labels: z.tuple([name, name]).default(['y1', 'y2']),
  seed: seed.optional(),
  scale: scaleSchema,
});
// The lists' length is checked against `sines` here, so that the error names the config path.
const mmoeSyntheticSource = mmoeSyntheticFields.check((ctx) => {
  for (const key of ['alphas', 'betas'] as const) {
    const given = ctx.value[key];
    if (Array.isArray(given) && given.length !== ctx.value.sines) {
      ctx.issues.push({
        code: 'custom',
        message: `needs ${ctx.value.sines} values, one per sine (sines: ${ctx.value.sines}), got ${given.length}`,
        input: given,
        path: [key],
      });
    }
  }
});

/** The folder of Fashion-MNIST's IDX files (relative to the config file); default Debian's. */
const fashionDir = z.string().min(1).optional();
const count = (max: number) => z.number().int().min(0).max(max);

/** MultiFashion (@mtl/data's makeMultiFashion): two Fashion-MNIST items per image, labels left and right. */
const multiFashionSource = z.strictObject({
  kind: z.literal('multifashion'),
  train: positiveInt.max(1_000_000).default(10_000),
  valid: count(1_000_000).default(2000),
  test: count(1_000_000).default(2000),
  size: positiveInt.max(36).default(18),
  shift: z.number().int().min(0).max(28).default(8),
  validShare: z
    .number()
    .gt(0)
    .lt(1)
    .default(1 / 6),
  field: name.default('image'),
  dir: fashionDir,
  seed: seed.optional(),
  scale: scaleSchema,
});

/** Fashion domains (@mtl/data's makeFashionDomains): four 10-class domains, N images per class. */
const fashionDomainsSource = z.strictObject({
  kind: z.literal('fashion_domains'),
  perClass: positiveInt.max(1500).default(20),
  validPerClass: count(1500).default(0),
  testPerClass: positiveInt.max(250).default(100),
  size: positiveInt.max(28).default(28),
  noise: z.number().min(0).finite().default(0.5),
  domains: z.array(z.enum(FASHION_DOMAINS)).min(1).optional(),
  field: name.default('image'),
  dir: fashionDir,
  seed: seed.optional(),
  scale: scaleSchema,
});

const labelColumn = z.union([
  z.string().min(1),
  z.strictObject({
    column: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    kind: z.enum(['class', 'soft', 'multilabel', 'regression']).optional(),
    classes: z.array(z.string()).min(1).optional(),
    numClasses: positiveInt.optional(),
  }),
]);

const columnName = z.string().min(1);
/**
 * A field's columns: a name (scalar rows), a range `px0..px63` or a list of names and ranges
 * (vector rows), or `{column | prefix, kind, ...}`.
 */
const fieldColumns = z.union([
  columnName,
  z.array(columnName).min(1),
  z.strictObject({
    /** A name, a range or a list (as above). */
    column: z.union([columnName, z.array(columnName).min(1)]).optional(),
    /** Every column starting with this (CSV header / first JSONL line), in file order. */
    prefix: columnName.optional(),
    /** `number` (default), `categorical` (string ids, OOV = 0), `text` (token ids, padding 0, OOV 1, plus `<field>_mask`). */
    kind: z.enum(FIELD_KINDS).optional(),
    /** Text: lower-case before splitting on whitespace (default true). */
    lowercase: z.boolean().optional(),
    /** Categorical / text: keep strings seen at least this often on the train split (default 1). */
    minCount: positiveInt.optional(),
    /** Categorical / text: keep at most this many of the most frequent strings. */
    maxSize: positiveInt.max(1_000_000).optional(),
    /** Text: tokens per row (longer rows are cut, shorter padded); default the longest train row. */
    maxLength: positiveInt.max(100_000).optional(),
  }),
]);

type FieldColumnsConfig = z.infer<typeof fieldColumns>;

/** The checks of a field object that span several keys (outside the union, so messages stay precise). */
function fieldIssues(spec: FieldColumnsConfig): { message: string; path: string[] }[] {
  if (typeof spec === 'string' || Array.isArray(spec)) return [];
  const out: { message: string; path: string[] }[] = [];
  if ((spec.column === undefined) === (spec.prefix === undefined)) {
    out.push({ message: 'give either "column" or "prefix"', path: [] });
  }
  const kind = spec.kind ?? 'number';
  if (kind !== 'number' && (spec.prefix !== undefined || Array.isArray(spec.column))) {
    out.push({ message: `a ${kind} field reads exactly one column`, path: ['column'] });
  }
  for (const key of ['minCount', 'maxSize'] as const) {
    if (spec[key] !== undefined && kind === 'number') {
      out.push({ message: `"${key}" applies to categorical and text fields`, path: [key] });
    }
  }
  for (const key of ['lowercase', 'maxLength'] as const) {
    if (spec[key] !== undefined && kind !== 'text') {
      out.push({ message: `"${key}" applies to text fields`, path: [key] });
    }
  }
  return out;
}

const fileSourceFields = {
  /** One file, split by `splits` ratios (seeded). */
  path: z.string().min(1).optional(),
  /** One file per split, e.g. `{train: train.csv, valid: valid.csv}`. */
  files: z.record(name, z.string().min(1)).optional(),
  splits: splitRatios.optional(),
  /** field -> column (scalar field), list or range of columns (vector field), or {column | prefix, kind, ...}. */
  fields: z.record(name, fieldColumns),
  /** label -> column, or {column, kind, classes, numClasses}. */
  labels: z.record(name, labelColumn).default({}),
  seed: seed.optional(),
  scale: scaleSchema,
};

const fileSource = (kind: 'csv' | 'jsonl') =>
  z
    .strictObject({
      kind: z.literal(kind),
      ...fileSourceFields,
      ...(kind === 'csv' ? { delimiter: z.string().length(1).optional() } : {}),
    })
    .check((ctx) => {
      const v = ctx.value;
      if ((v.path === undefined) === (v.files === undefined)) {
        ctx.issues.push({
          code: 'custom',
          message: 'give either "path" (one file, split by ratios) or "files" (one file per split)',
          input: v,
          path: [],
        });
      }
      for (const [field, spec] of Object.entries(v.fields)) {
        for (const { message, path } of fieldIssues(spec)) {
          ctx.issues.push({ code: 'custom', message, input: spec, path: ['fields', field, ...path] });
        }
      }
      if (v.files !== undefined && v.splits !== undefined) {
        ctx.issues.push({
          code: 'custom',
          message: '"splits" applies to "path" only',
          input: v,
          path: ['splits'],
        });
      }
    });

export const dataSourceSchema = z.discriminatedUnion('kind', [
  toySource,
  logisticSource,
  fileSource('csv'),
  fileSource('jsonl'),
  multiFashionSource,
  fashionDomainsSource,
  mmoeSyntheticSource,
]);

/** Seeded multi-domain VAE data (@mtl/vae's makeVaeDomains); loaded by build/vae.ts. */
export const vaeDomainsSourceSchema = z.strictObject({
  kind: z.literal('vae_domains'),
  tasks: positiveInt.max(1024).default(4),
  dim: positiveInt.max(100_000).default(16),
  latentDim: positiveInt.max(1000).default(2),
  train: z.union([positiveInt.max(10_000_000), z.array(positiveInt.max(10_000_000)).min(1)]).default(64),
  valid: z.number().int().min(0).max(10_000_000).default(0),
  test: positiveInt.max(10_000_000).default(1000),
  amplitude: z.number().min(0).finite().default(1),
  noise: z.number().min(0).finite().default(0.25),
  mapScale: z.number().min(0).finite().default(1),
  biasScale: z.number().min(0).finite().default(0.5),
  taskSpread: z.number().min(0).finite().default(0.2),
  taskNames: z.array(name).min(1).optional(),
  field: name.default('x'),
  seed: seed.optional(),
});

// ---- modules ----------------------------------------------------------------------------------
/** A registry kind as a config writes it: `kind` names it; `seed` is the config's own, not the module's. */
type ConfigMember<K> =
  K extends ModuleKind<infer T, infer S>
    ? z.ZodObject<
        { kind: z.ZodLiteral<T>; lr: z.ZodOptional<z.ZodNumber> } & Omit<S['shape'], 'seed'>,
        z.core.$strict
      >
    : never;
type ConfigMembers<Kinds extends readonly ModuleKind[]> = {
  -readonly [I in keyof Kinds]: ConfigMember<Kinds[I]>;
};

/**
 * The config's union of module kinds, composed from the packages' module registries (each kind's
 * zod options schema, its `type` written as `kind`), never rewritten here: a kind added to a
 * registry is configurable, documented (CONFIG.md) and listed by `mtl info` with no edit to the app.
 */
/** `modules.<name>.lr`: the module's learning-rate multiplier (the config's, not the module kind's). */
const moduleLr = z.number().min(0).optional();

export function moduleKindsSchema<const Kinds extends readonly [ModuleKind, ...ModuleKind[]]>(kinds: Kinds) {
  const members = kinds.map((k) => {
    const { seed: _, ...shape } = k.schema.shape;
    // The kind's rules between options (refinements) apply to the config entry too.
    return z
      .strictObject({ kind: z.literal(k.type), lr: moduleLr, ...shape })
      .check(...((k.schema._zod.def.checks ?? []) as z.core.$ZodCheck<{ kind: string }>[]))
      .describe(k.description);
  });
  return z.discriminatedUnion('kind', members as unknown as ConfigMembers<Kinds>);
}

export const moduleSchema = moduleKindsSchema(BUILT_IN_MODULE_KINDS);

// ---- tasks ------------------------------------------------------------------------------------
const opInput = z.union([
  name,
  z.tuple([z.string().min(1), z.union([z.string().min(1), z.number().int().min(0)])]),
]);
const opSchema = z.union([
  name,
  z.strictObject({ name: name.optional(), module: name, inputs: z.array(opInput).min(1).optional() }),
]);
const metricSpec = z.union([
  z.string().min(1),
  z
    .object({ name: z.string().min(1) })
    .catchall(z.union([finite, z.string(), z.boolean()]))
    .refine((o) => !('compute' in o), 'a metric spec cannot define code'),
]);

/** The task options every model kind reads. */
const commonTaskShape = {
  /** The data source the task reads. */
  data: name,
  /** Input field(s) of the source; default its only field. */
  input: z.union([name, z.array(name).min(1)]).optional(),
  /** Label of the source; default the label named like the task, else the source's only label. */
  label: name.optional(),
};
const taskWeight = z.number().positive().finite().default(1);

/** A task of a multitask model (the default model kind). */
export const taskSchema = z.strictObject({
  ...commonTaskShape,
  /** Operation sequence. A module name is shorthand for an operation reading the previous one (the first reads the input). */
  ops: z.array(opSchema).min(1).optional(),
  kind: z.enum(TASK_KINDS).default('multiclass'),
  metrics: z.array(metricSpec).min(1).optional(),
  weight: taskWeight,
  /** Slicing functions: named conditions on the data's fields and labels; the task is scored on each slice too. */
  slices: slicesSchema.optional(),
  /** Make the task slice-aware (Snorkel's SliceAwareClassifier) over its slices: `true`, or options. */
  sliceAware: z
    .union([
      z.boolean(),
      z.strictObject({
        slices: z.array(z.string().min(1)).min(1).optional(),
        expert: moduleSchema.optional(),
        temperature: z.number().positive().finite().optional(),
        indicatorWeight: z.number().min(0).finite().optional(),
        predictorWeight: z.number().min(0).finite().optional(),
      }),
    ])
    .optional(),
});

// ---- training and model -----------------------------------------------------------------------
export const loopSchema = z.strictObject({
  batchSize: positiveInt.max(1_000_000).default(32),
  /** How batches of several tasks interleave (multitask and VAE models; a VMTL model refuses it: it stacks one sub-batch per task). */
  scheduler: z.enum(SCHEDULER_NAMES).default('shuffled'),
  /** Reshuffle each train loader's rows every epoch (seeded); false reads them in file order. Evaluation never shuffles. */
  shuffle: z.boolean().default(true),
  /** Evaluate on this split during training (exact name). */
  validSplit: name.default('valid'),
});

export const BACKEND_CHOICES = ['auto', ...BACKENDS] as const;
export { name as nameSchema, seed as seedSchema };

// ---- the whole config -------------------------------------------------------------------------

/** The app's training options beside the Trainer's own (how batches are drawn; refused Trainer keys). */
const trainingAppShape = {
  ...loopSchema.shape,
  checkpointDir: z
    .undefined({ error: 'checkpoints always go to RUN_DIR/checkpoints; remove "checkpointDir"' })
    .optional(),
  // One source of task weights for the trainer and model/all/*/loss: the task's own entry.
  taskWeights: z
    .record(z.string(), z.number())
    .refine((weights) => Object.keys(weights).length === 0, {
      error: 'task weights are set per task: use tasks.<name>.weight instead of "training.taskWeights"',
    })
    .default({}),
  // The library's method union as is: one place defines the methods and their options.
  weighting: aggregatorSchema.default({ method: 'weightedSum' }),
  /** What is measured at each evaluation beside the scores (see the app README, "Conflict monitor"). */
  monitor: z
    .strictObject({
      /** Cosines and norm ratios of the tasks' gradients of the shared parameters (needs 2+ tasks sharing parameters). */
      conflicts: z.boolean().default(true),
    })
    .prefault({}),
};

/** The `training` section of a multitask or VAE model (a VMTL model's has no `scheduler`). */
export const trainingSchema = trainerConfigSchema.safeExtend(trainingAppShape);

export const multitaskModelSchema = z.strictObject({ kind: z.literal('multitask') });

const temperatureSchema = z.union([
  z.number().positive().finite(),
  z.strictObject({ kind: z.literal('constant'), value: z.number().positive().finite().optional() }),
  z.strictObject({
    kind: z.literal('inverseSqrt'),
    initial: z.number().positive().finite().optional(),
    floor: z.number().positive().finite().optional(),
  }),
  z.strictObject({
    kind: z.literal('exponential'),
    initial: z.number().positive().finite().optional(),
    rate: z.number().min(0).finite().optional(),
    floor: z.number().positive().finite().optional(),
  }),
]);

const klAnnealSchema = z.union([
  z.number().min(0).finite(),
  z.strictObject({
    kind: z.literal('linear'),
    from: z.number().min(0).finite().optional(),
    to: z.number().min(0).finite().optional(),
    steps: positiveInt,
    delay: z.number().int().min(0).optional(),
  }),
]);

/** Variational multitask learning (Bayesian logistic regression per task, Gumbel-softmax mixture prior). */
export const vmtlModelSchema = z.strictObject({
  kind: z.literal('vmtl'),
  /** `mixture` = VMTL; `standardNormal` = the solo baseline (fixed N(0, I) prior, no mixing). */
  prior: z.enum(['mixture', 'standardNormal']).default('mixture'),
  classifierSamples: positiveInt.max(10_000).default(10),
  latentSamples: positiveInt.max(10_000).default(10),
  klSamples: positiveInt.max(100_000).default(10),
  classifierKl: z
    .enum(['upperBound', 'monteCarlo', 'momentMatched', 'momentMatchedMixture'])
    .default('upperBound'),
  detachPrior: z.boolean().default(true),
  temperature: temperatureSchema.optional(),
  klWeight: z.number().min(0).finite().default(1),
  gumbelNoise: z.boolean().default(true),
  mixingInit: finite.optional(),
  predictiveSamples: positiveInt.max(100_000).default(100),
  /** Deep VMTL (tasks with `ops`): dimension of the Gaussian latent z (0: none, the classifier reads the trunk's features). */
  latentDim: z.number().int().min(0).max(100_000).default(0),
  /** Deep VMTL: the latent mixture-KL estimator. */
  latentKl: z
    .enum(['upperBound', 'monteCarlo', 'momentMatched', 'momentMatchedMixture'])
    .default('momentMatched'),
  /** Deep VMTL: weight of an N(0, I) component in the latent prior (0: the paper's prior alone). */
  latentStandardWeight: z.number().min(0).lt(1).default(0),
  /** Deep VMTL: an N(0, I) component in each task's classifier prior, weighed by α's diagonal. */
  classifierStandardComponent: z.boolean().optional(),
  /** Deep VMTL: KL weights as a number or a linear ramp {kind: linear, steps, from?, to?, delay?} (annealing). */
  classifierKlWeight: klAnnealSchema.optional(),
  latentKlWeight: klAnnealSchema.default(1),
  /** Deep VMTL: score and predict with the MC posterior predictive or the posterior means. */
  predictWith: z.enum(['predictive', 'posteriorMean']).default('predictive'),
  classifierLogScaleInit: finite.optional(),
  latentLogScaleInit: finite.optional(),
  /** Deep VMTL: what the latent prior's components encode (sameClass: the other tasks' rows of the row's class, the paper code). */
  latentPriorInputs: z.enum(['sameInput', 'sameClass']).default('sameInput'),
  /** Deep VMTL: one latent encoder for all tasks (the paper code's), with latentPriorInputs sameClass. */
  shareLatent: z.boolean().default(false),
  /** Deep VMTL: share the trunk modules by name; default: shared with the mixture prior, a copy per task with standardNormal (solo). */
  shareTrunk: z.boolean().optional(),
});

/** A VAE's modules: @mtl/vae's kinds, or any module kind of the `modules` section. */
const vaeModuleSchema = z.discriminatedUnion('kind', [
  ...moduleKindsSchema(VAE_MODULE_KINDS).options,
  ...moduleSchema.options,
]);
const moduleChain = z.union([name, z.array(name).min(1)]);

/** Multitask VAEs (@mtl/vae): see apps/mtl/examples/mt-vae.md. */
export const vaeModelSchema = z.strictObject({
  kind: z.literal('vae'),
  /** Module templates by name (a name not found here is looked up in the top-level `modules`). */
  modules: z.record(name, vaeModuleSchema).default({}),
  /** Module chain x -> q(z | x): the last returns {loc, logScale} (or z_e with a quantizer). */
  encoder: moduleChain,
  /** Module chain z -> p(x | z): the last is a vaeDecoder (or returns {loc, logScale} / {logits}). */
  decoder: moduleChain,
  /** A vectorQuantizer module: VQ-VAE latent. */
  quantizer: name.optional(),
  /** Modules copied once per task (named `<task>.<module>`); every other module is shared by all tasks. */
  perTask: z.array(name).default([]),
  prior: z.enum(['standardNormal', 'mixture']).default('standardNormal'),
  /** KL weight: a number, or {kind: linear, from, to, steps, delay} (annealing). */
  beta: z
    .union([
      z.number().min(0).finite(),
      z.strictObject({ kind: z.literal('constant'), value: z.number().min(0).finite().optional() }),
      z.strictObject({
        kind: z.literal('linear'),
        from: z.number().min(0).finite().optional(),
        to: z.number().min(0).finite().optional(),
        steps: positiveInt,
        delay: z.number().int().min(0).optional(),
      }),
    ])
    .default(1),
  latentSamples: positiveInt.max(1000).default(1),
  evalSamples: positiveInt.max(10_000).default(16),
  activeUnitThreshold: z.number().min(0).finite().default(0.01),
  mixture: z
    .strictObject({
      temperature: temperatureSchema.optional(),
      gumbelNoise: z.boolean().default(true),
      init: finite.optional(),
      estimator: z.enum(['upperBound', 'monteCarlo', 'momentMatched']).default('monteCarlo'),
      klSamples: positiveInt.max(100_000).default(10),
      detachPrior: z.boolean().default(true),
      standardWeight: z.number().min(0).lt(1).default(0.5),
    })
    .prefault({}),
});

export const modelSchema = z.discriminatedUnion('kind', [
  multitaskModelSchema,
  vmtlModelSchema,
  vaeModelSchema,
]);

const nonEmpty = (what: string) => (r: Record<string, unknown>) =>
  Object.keys(r).length > 0 || `declare at least one ${what}`;

// ---- one config schema per model kind ---------------------------------------------------------
/** The model kinds, in the order the reference lists them. */
export const MODEL_KINDS = ['multitask', 'vmtl', 'vae'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/**
 * Why a model kind does not read an option another kind reads, by config path (`*`: a name). A
 * misplaced option's message ends with it, so the user learns what to do instead.
 */
const WHY_NOT: Record<string, Partial<Record<ModelKind, string>>> = {
  'tasks.*.ops': {
    vae: 'every vae task runs the model.encoder and model.decoder chains',
  },
  'tasks.*.kind': {
    vmtl: 'a vmtl task is always a binary classifier (labels 0/1)',
    vae: 'a vae task reconstructs its input (its label is not a target)',
  },
  'tasks.*.metrics': {
    vmtl: 'a vmtl model scores accuracy and loss of every task',
    vae: 'a vae model scores neg_elbo, recon_nll, recon_mse, kl and its latent statistics',
  },
  'training.scheduler': { vmtl: 'a vmtl step always stacks one sub-batch of every task' },
  'model.modules': { multitask: "a multitask model's modules are the top-level `modules`" },
};

/** What a refused option's JSON Schema carries, so the reference leaves it out of that kind. */
export const REFUSED_MARK = 'notForModelKind';

type Refused = z.ZodOptional<z.ZodUndefined>;
type KeysOf<S> = { [K in keyof S]: keyof S[K] }[keyof S];
type Refusals<S, K extends keyof S> = { [P in Exclude<KeysOf<S>, keyof S[K]>]: Refused };

/**
 * For each model kind, the options of a section that other kinds read and this one does not:
 * each accepts nothing, so writing it is an error at its own path saying which kinds read it
 * (a plain unknown key would not say why).
 */
function refusals<S extends Record<ModelKind, z.ZodRawShape>>(
  section: string,
  shapes: S,
): { [K in ModelKind]: Refusals<S, K> } {
  const keys = [...new Set(MODEL_KINDS.flatMap((kind) => Object.keys(shapes[kind])))];
  const out: Record<string, Record<string, Refused>> = {};
  for (const kind of MODEL_KINDS) {
    out[kind] = {};
    for (const key of keys) {
      if (key in shapes[kind]) continue;
      const owners = MODEL_KINDS.filter((k) => key in shapes[k]);
      const why = WHY_NOT[section === '' ? key : `${section}.${key}`]?.[kind];
      const message = `"${key}" applies to model kind${owners.length > 1 ? 's' : ''} ${owners.join(' and ')}, not ${kind}${why === undefined ? '' : `: ${why}`}`;
      out[kind][key] = z
        .undefined({ error: message })
        .meta({ [REFUSED_MARK]: kind })
        .optional();
    }
  }
  return out as { [K in ModelKind]: Refusals<S, K> };
}

const vmtlTaskShape = { ...commonTaskShape, ops: taskSchema.shape.ops, weight: taskWeight };
const vaeTaskShape = { ...commonTaskShape, weight: taskWeight };
const taskRefusals = refusals('tasks.*', {
  multitask: taskSchema.shape,
  vmtl: vmtlTaskShape,
  vae: vaeTaskShape,
});
/** The task schema of each model kind: what its build code reads, and nothing else. */
export const taskSchemas = {
  multitask: taskSchema,
  vmtl: z.strictObject({ ...vmtlTaskShape, ...taskRefusals.vmtl }),
  vae: z.strictObject({ ...vaeTaskShape, ...taskRefusals.vae }),
};

const { scheduler: _scheduler, ...vmtlTrainingShape } = trainingAppShape;
const trainingRefusals = refusals('training', {
  multitask: trainingAppShape,
  vmtl: vmtlTrainingShape,
  vae: trainingAppShape,
});
/** The `training` section of each model kind. */
export const trainingSchemas = {
  multitask: trainingSchema,
  vmtl: trainerConfigSchema.safeExtend({ ...vmtlTrainingShape, ...trainingRefusals.vmtl }),
  vae: trainingSchema,
};

const modelRefusals = refusals('model', {
  multitask: multitaskModelSchema.shape,
  vmtl: vmtlModelSchema.shape,
  vae: vaeModelSchema.shape,
});
const modelSchemas = {
  multitask: multitaskModelSchema.extend(modelRefusals.multitask),
  vmtl: vmtlModelSchema.extend(modelRefusals.vmtl),
  vae: vaeModelSchema.extend(modelRefusals.vae),
};

const modulesSection = z.record(name, moduleSchema).default({});
const topRefusals = refusals('', {
  multitask: { modules: modulesSection },
  vmtl: { modules: modulesSection },
  vae: { modules: modulesSection },
});

const dataSection = z
  .record(name, z.discriminatedUnion('kind', [...dataSourceSchema.options, vaeDomainsSourceSchema]))
  .check((ctx) => {
    const r = nonEmpty('data source')(ctx.value);
    if (r !== true) ctx.issues.push({ code: 'custom', message: r, input: ctx.value });
  });
const tasksSection = <T extends z.ZodType>(task: T) =>
  z.record(name, task).check((ctx) => {
    const r = nonEmpty('task')(ctx.value);
    if (r !== true) ctx.issues.push({ code: 'custom', message: r, input: ctx.value });
  });
const topShape = {
  /** Seeds everything: data generation and splits, initialisation, shuffles, dropout, sampling. */
  seed: seed.default(0),
  backend: z.enum(BACKEND_CHOICES).default('auto'),
  data: dataSection,
};

/**
 * The whole config of each model kind. Strict: an unknown key anywhere is an error naming its
 * path, and so is an option of another model kind (naming the kinds that read it).
 */
export const configSchemas = {
  multitask: z.strictObject({
    ...topShape,
    modules: modulesSection,
    tasks: tasksSection(taskSchemas.multitask),
    training: trainingSchemas.multitask.prefault({}),
    model: modelSchemas.multitask.prefault({ kind: 'multitask' }),
  }),
  vmtl: z.strictObject({
    ...topShape,
    ...topRefusals.vmtl,
    modules: modulesSection,
    tasks: tasksSection(taskSchemas.vmtl),
    training: trainingSchemas.vmtl.prefault({}),
    model: modelSchemas.vmtl,
  }),
  vae: z.strictObject({
    ...topShape,
    modules: modulesSection,
    tasks: tasksSection(taskSchemas.vae),
    training: trainingSchemas.vae.prefault({}),
    model: modelSchemas.vae,
  }),
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The whole `mtl` config (YAML or JSON): `model.kind` (default `multitask`) picks the schema of
 * {@link configSchemas}, whose issues keep their paths. The kind is nested, so a zod
 * discriminated union (which reads a top-level key) cannot pick it.
 * @example
 * const config = configSchema.parse(YAML.parse(text));
 * if (isModelKind(config, 'vmtl')) config.model.klWeight; // narrowed: a VMTL config
 */
export const configSchema = z.unknown().transform((input, ctx): MtlConfig => {
  const model = isRecord(input) ? input.model : undefined;
  let kind: unknown = 'multitask';
  if (model !== undefined) {
    if (!isRecord(model)) {
      ctx.issues.push({
        code: 'custom',
        message: `expected a mapping {kind: ${MODEL_KINDS.join(' | ')}, ...}`,
        input: model,
        path: ['model'],
      });
      return z.NEVER;
    }
    kind = model.kind;
  }
  if (!(MODEL_KINDS as readonly unknown[]).includes(kind)) {
    ctx.issues.push({
      code: 'custom',
      message:
        kind === undefined
          ? `give the model kind: ${MODEL_KINDS.join(', ')}`
          : `unknown model kind ${JSON.stringify(kind)} (known: ${MODEL_KINDS.join(', ')})`,
      input: kind,
      path: ['model', 'kind'],
    });
    return z.NEVER;
  }
  const result = configSchemas[kind as ModelKind].safeParse(input);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.issues.push({ ...issue, input: undefined });
  return z.NEVER;
});

/**
 * The config of every kind in one flat schema (each section with the options of every kind), the
 * way the reference (apps/mtl/CONFIG.md) lists it; never used to parse a config.
 */
export const configReferenceSchema = z.strictObject({
  ...topShape,
  modules: modulesSection,
  tasks: tasksSection(taskSchema),
  training: trainingSchema.prefault({}),
  model: modelSchema.prefault({ kind: 'multitask' }),
});

/** A valid config with its defaults, of any model kind. Narrow it with {@link isModelKind}. */
export type MtlConfig = {
  [K in ModelKind]: z.output<(typeof configSchemas)[K]>;
}[ModelKind];
export type MtlConfigInput = z.input<(typeof configSchemas)[ModelKind]>;
/** The config of one model kind. */
export type MtlConfigOf<K extends ModelKind> = z.output<(typeof configSchemas)[K]>;

/**
 * Narrows a config by its model kind (TypeScript does not narrow `config` itself on the nested
 * `config.model.kind`).
 * @example
 * if (isModelKind(config, 'multitask')) buildMultitaskModel(config.tasks, ...);
 */
export function isModelKind<K extends ModelKind>(config: MtlConfig, kind: K): config is MtlConfigOf<K> {
  return config.model.kind === kind;
}
