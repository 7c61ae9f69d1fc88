import { BACKENDS } from '@mtl/core';
import { FIELD_KINDS, SCALE_METHODS, SCHEDULER_NAMES } from '@mtl/data';
import { BUILT_IN_MODULE_KINDS, type ModuleKind, TASK_KINDS } from '@mtl/tasks';
import { trainerConfigSchema } from '@mtl/training';
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
]);

/** Seeded multi-domain VAE data (@mtl/vae's makeVaeDomains); loaded by build/vae-run.ts. */
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
    ? z.ZodObject<{ kind: z.ZodLiteral<T> } & Omit<S['shape'], 'seed'>, z.core.$strict>
    : never;
type ConfigMembers<Kinds extends readonly ModuleKind[]> = {
  -readonly [I in keyof Kinds]: ConfigMember<Kinds[I]>;
};

/**
 * The config's union of module kinds, composed from the packages' module registries (each kind's
 * zod options schema, its `type` written as `kind`), never rewritten here: a kind added to a
 * registry is configurable, documented (CONFIG.md) and listed by `mtl info` with no edit to the app.
 */
export function moduleKindsSchema<const Kinds extends readonly [ModuleKind, ...ModuleKind[]]>(kinds: Kinds) {
  const members = kinds.map((k) => {
    const { seed: _, ...shape } = k.schema.shape;
    // The kind's rules between options (refinements) apply to the config entry too.
    return z
      .strictObject({ kind: z.literal(k.type), ...shape })
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

export const taskSchema = z.strictObject({
  /** The data source the task reads. */
  data: name,
  /** Input field(s) of the source; default its only field. */
  input: z.union([name, z.array(name).min(1)]).optional(),
  /** Label of the source; default the label named like the task, else the source's only label. */
  label: name.optional(),
  /** Operation sequence. A module name is shorthand for an operation reading the previous one (the first reads the input). */
  ops: z.array(opSchema).min(1).optional(),
  kind: z.enum(TASK_KINDS).default('multiclass'),
  metrics: z.array(metricSpec).min(1).optional(),
  weight: z.number().positive().finite().default(1),
});

// ---- training and model -----------------------------------------------------------------------
export const loopSchema = z.strictObject({
  batchSize: positiveInt.max(1_000_000).default(32),
  /** How batches of several tasks interleave (multitask model); VMTL always stacks one sub-batch per task. */
  scheduler: z.enum(SCHEDULER_NAMES).default('shuffled'),
  /** Reshuffle each train loader's rows every epoch (seeded); false reads them in file order. Evaluation never shuffles. */
  shuffle: z.boolean().default(true),
  /** Evaluate on this split during training (exact name). */
  validSplit: name.default('valid'),
});

export const BACKEND_CHOICES = ['auto', ...BACKENDS] as const;
export { name as nameSchema, seed as seedSchema };

// ---- the whole config -------------------------------------------------------------------------

export const trainingSchema = trainerConfigSchema.safeExtend({
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
});

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

/** Variational multitask learning (Bayesian logistic regression per task, Gumbel-softmax mixture prior). */
export const vmtlModelSchema = z.strictObject({
  kind: z.literal('vmtl'),
  /** `mixture` = VMTL; `standardNormal` = the solo baseline (fixed N(0, I) prior, no mixing). */
  prior: z.enum(['mixture', 'standardNormal']).default('mixture'),
  classifierSamples: positiveInt.max(10_000).default(10),
  latentSamples: positiveInt.max(10_000).default(10),
  klSamples: positiveInt.max(100_000).default(10),
  classifierKl: z.enum(['upperBound', 'monteCarlo', 'momentMatched']).default('upperBound'),
  detachPrior: z.boolean().default(true),
  temperature: temperatureSchema.optional(),
  klWeight: z.number().min(0).finite().default(1),
  gumbelNoise: z.boolean().default(true),
  mixingInit: finite.optional(),
  predictiveSamples: positiveInt.max(100_000).default(100),
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

/**
 * The whole `mtl` config (YAML or JSON). Strict: an unknown key anywhere is an error naming its path.
 * @example
 * const config = configSchema.parse(YAML.parse(text));
 */
export const configSchema = z.strictObject({
  /** Seeds everything: data generation and splits, initialisation, shuffles, dropout, sampling. */
  seed: seed.default(0),
  backend: z.enum(BACKEND_CHOICES).default('auto'),
  data: z
    .record(name, z.discriminatedUnion('kind', [...dataSourceSchema.options, vaeDomainsSourceSchema]))
    .check((ctx) => {
      const r = nonEmpty('data source')(ctx.value);
      if (r !== true) ctx.issues.push({ code: 'custom', message: r, input: ctx.value });
    }),
  modules: z.record(name, moduleSchema).default({}),
  tasks: z.record(name, taskSchema).check((ctx) => {
    const r = nonEmpty('task')(ctx.value);
    if (r !== true) ctx.issues.push({ code: 'custom', message: r, input: ctx.value });
  }),
  training: trainingSchema.prefault({}),
  model: modelSchema.prefault({ kind: 'multitask' }),
});

export type MtlConfig = z.infer<typeof configSchema>;
export type MtlConfigInput = z.input<typeof configSchema>;
