import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BACKENDS, type BackendName, nativeStatus, selectBackend } from '@mtl/core';
import { SCHEDULER_NAMES } from '@mtl/data';
import { listMetrics } from '@mtl/scoring';
import { registeredModuleTypes, TASK_KINDS } from '@mtl/tasks';
import {
  aggregatorSchema,
  lrScheduleConfigSchema,
  optimizerConfigSchema,
  WEIGHTING_METHODS,
  type WeightingMethod,
} from '@mtl/training';
import { registerVaeModules, VAE_MODULE_TYPES } from '@mtl/vae';
import { z } from 'zod';
import { configSchemas, modelSchema, vaeModelSchema } from '../config/schema.js';

// Read from the composed config schema itself, so a kind added anywhere in it is listed.
const moduleUnion = configSchemas.multitask.shape.modules.unwrap().valueType;
const vaeModuleUnion = vaeModelSchema.shape.modules.unwrap().valueType;
const dataUnion = configSchemas.multitask.shape.data.valueType;
const modelUnion = modelSchema;

/** One option of a kind, read from its zod schema (what a user may write). */
export interface InfoOption {
  name: string;
  /** e.g. `integer ≥ 1`, `"relu" | "tanh"`, `list of integer ≥ 1`. */
  type: string;
  required: boolean;
  /** The default, when the schema has one. */
  default?: unknown;
}

/** One usable thing: a module kind, an optimizer, a metric... */
export interface InfoEntry {
  name: string;
  /** Where it is written in a config, e.g. `modules.*.kind`. */
  configPath?: string;
  description?: string;
  options?: InfoOption[];
  /** Metrics: whether a higher value is better. */
  direction?: 'higher' | 'lower';
  /** Module kinds: rebuilt from saved models through @mtl/tasks' module registry. */
  registered?: boolean;
  /** Weighting methods: each step must hold every task (`training.scheduler: mixed`). */
  needsEveryTask?: boolean;
}

export interface BackendInfo {
  name: BackendName;
  available: boolean;
  active: boolean;
  detail: string;
}

/** What `mtl info --json` prints. */
export interface MtlInfo {
  moduleKinds: InfoEntry[];
  taskKinds: InfoEntry[];
  metrics: InfoEntry[];
  schedulers: InfoEntry[];
  optimizers: InfoEntry[];
  lrSchedules: InfoEntry[];
  aggregators: InfoEntry[];
  modelKinds: InfoEntry[];
  dataSources: InfoEntry[];
  backends: BackendInfo[];
  native: { registered: boolean; active: boolean; detail: string };
  versions: Record<string, string>;
}

type Json = { [key: string]: unknown };

/** A short type description of one JSON-Schema node (io: input). */
function describeType(node: Json): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (Array.isArray(node.enum)) return node.enum.map((v) => JSON.stringify(v)).join(' | ');
  const members = (node.anyOf ?? node.oneOf) as Json[] | undefined;
  if (members !== undefined) return members.map(describeType).join(' or ');
  const type = node.type;
  if (type === 'array') {
    const items = node.items as Json | Json[] | undefined;
    if (Array.isArray(items)) return `[${items.map(describeType).join(', ')}]`;
    return `list of ${items === undefined ? 'any' : describeType(items)}`;
  }
  if (type === 'integer' || type === 'number') {
    const bounds: string[] = [];
    if (typeof node.minimum === 'number') bounds.push(`≥ ${node.minimum}`);
    if (typeof node.exclusiveMinimum === 'number') bounds.push(`> ${node.exclusiveMinimum}`);
    if (typeof node.maximum === 'number' && node.maximum < Number.MAX_SAFE_INTEGER) {
      bounds.push(`≤ ${node.maximum}`);
    }
    if (typeof node.exclusiveMaximum === 'number') bounds.push(`< ${node.exclusiveMaximum}`);
    return [type, ...bounds].join(' ');
  }
  if (type === 'object') {
    const props = Object.keys((node.properties ?? {}) as Json);
    return props.length === 0 ? 'object' : `{${props.join(', ')}}`;
  }
  return typeof type === 'string' ? type : 'any';
}

/** The options of one member of a discriminated union, its discriminator left out. */
function optionsOf(schema: z.ZodType, discriminator: string): InfoOption[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries((json.properties ?? {}) as Record<string, Json>)
    .filter(([key]) => key !== discriminator)
    .map(([key, node]) => ({
      name: key,
      type: describeType(node),
      required: required.has(key),
      ...(node.default === undefined ? {} : { default: node.default }),
    }));
}

type UnionMember = z.ZodObject & { shape: Record<string, z.ZodType> };

/**
 * The values of a member's discriminator: `kind: z.literal('dense')` -> ['dense'];
 * `kind: z.enum(['circle', 'square'])` (one schema for several kinds) -> both.
 */
function discriminatorValues(member: UnionMember, key: string): string[] {
  const field = member.shape[key] as unknown as { value?: unknown; options?: unknown[] };
  if (typeof field?.value === 'string') return [field.value];
  if (Array.isArray(field?.options)) return field.options.map(String);
  throw new Error(`union member without a constant "${key}"`);
}

function unionEntries(members: readonly z.ZodType[], key: string, configPath: string): InfoEntry[] {
  return members.flatMap((m) => {
    const member = m as UnionMember;
    const options = optionsOf(member, key);
    return discriminatorValues(member, key).map((name) => ({
      name,
      configPath,
      ...(member.description === undefined ? {} : { description: member.description }),
      options,
    }));
  });
}

/** The version of an installed package, read from its package.json wherever node would find it. */
function installedVersion(require: NodeRequire, pkg: string): string | undefined {
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const file = join(dir, pkg, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return undefined;
}

/** Package of each backend (cpu ships with @tensorflow/tfjs). */
const BACKEND_PACKAGE: Record<BackendName, string | undefined> = {
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: undefined,
};

/**
 * Everything a config can use, read from the packages' registries and schemas (never a list kept
 * here), plus the backends and package versions of this installation. Activates the backend
 * `selectBackend` picks (the `--backend` option, else `MTL_BACKEND`, else auto), as `mtl train` would.
 * @example
 * const info = await collectInfo();
 * info.moduleKinds.map((k) => k.name); // ['dense', 'mlp', ..., 'gaussianEncoder', ...]
 */
export async function collectInfo(options: { backend?: string | undefined } = {}): Promise<MtlInfo> {
  const active = await selectBackend(
    options.backend === undefined ? {} : { backend: options.backend as BackendName },
  );
  // The VAE kinds join the module registry the way a vae run registers them.
  registerVaeModules();
  const registered = new Set(registeredModuleTypes());
  const vaeOnly = new Set<string>(VAE_MODULE_TYPES);
  const moduleKinds = [
    ...unionEntries(moduleUnion.options, 'kind', 'modules.*.kind'),
    ...unionEntries(
      vaeModuleUnion.options.filter((m) =>
        discriminatorValues(m as UnionMember, 'kind').some((k) => vaeOnly.has(k)),
      ),
      'kind',
      'model.modules.*.kind (vae models)',
    ),
  ]
    // `lr` (the module's learning-rate multiplier) is the config's, on every kind, not the kind's own option.
    .map((entry) => ({
      ...entry,
      ...(entry.options ? { options: entry.options.filter((o) => o.name !== 'lr') } : {}),
      registered: registered.has(entry.name),
    }));
  // Kinds a library user can register or rebuild from a saved model but not write in a config.
  const inConfig = new Set(moduleKinds.map((k) => k.name));
  for (const name of registered) {
    if (!inConfig.has(name)) {
      moduleKinds.push({ name, configPath: 'library only (moduleFromConfig)', registered: true });
    }
  }

  const require = createRequire(import.meta.url);
  const appPackage = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    name: string;
    version: string;
    dependencies: Record<string, string>;
  };
  const versions: Record<string, string> = { [appPackage.name]: appPackage.version };
  const packages = [
    ...Object.keys(appPackage.dependencies).filter((d) => d.startsWith('@mtl/') || d === '@tensorflow/tfjs'),
    '@mtl/native',
    ...Object.values(BACKEND_PACKAGE).filter((p): p is string => p !== undefined),
  ];
  for (const pkg of [...new Set(packages)].sort()) {
    const version = installedVersion(require, pkg);
    if (version !== undefined) versions[pkg] = version;
  }

  const native = nativeStatus();
  const backends = BACKENDS.map((name): BackendInfo => {
    const pkg = BACKEND_PACKAGE[name];
    const available = pkg === undefined || versions[pkg] !== undefined;
    const detail =
      pkg === undefined
        ? 'plain JavaScript, always available'
        : available
          ? `${pkg} ${versions[pkg]}${name === 'wasm' ? `; native BLAS kernels: ${native.detail}` : ''}`
          : `${pkg} is not installed`;
    return { name, available, active: name === active, detail };
  });

  return {
    moduleKinds,
    taskKinds: TASK_KINDS.map((name) => ({ name, configPath: 'tasks.*.kind' })),
    metrics: listMetrics().map((m) => ({
      name: m.name,
      configPath: 'tasks.*.metrics[]',
      description: m.description,
      direction: m.higherIsBetter ? 'higher' : 'lower',
      options: Object.entries(m.params ?? {}).map(([name, p]) => ({
        name,
        type: [
          p.integer ? 'integer' : 'number',
          ...(p.min === undefined ? [] : [`${p.minExclusive ? '>' : '≥'} ${p.min}`]),
          ...(p.max === undefined ? [] : [`≤ ${p.max}`]),
        ].join(' '),
        required: p.default === undefined,
        ...(p.default === undefined ? {} : { default: p.default }),
      })),
    })),
    schedulers: SCHEDULER_NAMES.map((name) => ({ name, configPath: 'training.scheduler' })),
    optimizers: unionEntries(optimizerConfigSchema.options, 'type', 'training.optimizer.type'),
    lrSchedules: unionEntries(lrScheduleConfigSchema.options, 'type', 'training.lrSchedule.type'),
    aggregators: unionEntries(aggregatorSchema.options, 'method', 'training.weighting.method').map((e) => ({
      ...e,
      needsEveryTask: WEIGHTING_METHODS[e.name as WeightingMethod].needsEveryTask,
    })),
    modelKinds: unionEntries(modelUnion.options, 'kind', 'model.kind'),
    dataSources: unionEntries(dataUnion.options, 'kind', 'data.*.kind'),
    backends,
    native: { registered: native.registered, active: native.active, detail: native.detail },
    versions,
  };
}

function optionText(o: InfoOption): string {
  if (o.default !== undefined) return `${o.name}=${JSON.stringify(o.default)}`;
  return o.required ? o.name : `${o.name}?`;
}

function section(title: string, entries: InfoEntry[]): string[] {
  const width = Math.max(...entries.map((e) => e.name.length));
  const lines = [`${title}${entries[0]?.configPath ? ` (${entries[0].configPath})` : ''}:`];
  for (const e of entries) {
    const parts: string[] = [];
    if (e.direction !== undefined) parts.push(`${e.direction} is better`);
    if (e.needsEveryTask) parts.push('every task in each step');
    if (e.configPath !== entries[0]?.configPath && e.configPath !== undefined)
      parts.push(`in ${e.configPath}`);
    if (e.options !== undefined && e.options.length > 0) parts.push(e.options.map(optionText).join(', '));
    if (e.description !== undefined && e.options === undefined) parts.push(e.description);
    lines.push(`  ${e.name.padEnd(width)}  ${parts.join('; ')}`.trimEnd());
  }
  return lines;
}

/**
 * The plain-text form: one group per family, one aligned line per entry with its options
 * (`name` required, `name?` optional, `name=default`).
 * @example
 * formatInfo(await collectInfo()).split('\n')[0]; // 'module kinds (modules.*.kind):'
 */
export function formatInfo(info: MtlInfo): string {
  const width = Math.max(...info.backends.map((b) => b.name.length));
  const versionWidth = Math.max(...Object.keys(info.versions).map((k) => k.length));
  return [
    ...section('module kinds', info.moduleKinds),
    ...section('task kinds', info.taskKinds),
    ...section('metrics', info.metrics),
    ...section('batch schedulers', info.schedulers),
    ...section('optimizers', info.optimizers),
    ...section('LR schedules', info.lrSchedules),
    ...section('aggregators', info.aggregators),
    ...section('model kinds', info.modelKinds),
    ...section('data source kinds', info.dataSources),
    'backends (--backend, MTL_BACKEND, config "backend"):',
    ...info.backends.map(
      (b) =>
        `  ${b.name.padEnd(width)}  ${b.active ? 'active' : b.available ? 'available' : 'unavailable'}; ${b.detail}`,
    ),
    'versions:',
    ...Object.entries(info.versions).map(([k, v]) => `  ${k.padEnd(versionWidth)}  ${v}`),
  ].join('\n');
}

/** `mtl info [--json]`: prints what a config can use. */
export async function info(options: {
  json: boolean;
  backend?: string | undefined;
  write: (line: string) => void;
}): Promise<void> {
  const collected = await collectInfo({ backend: options.backend });
  options.write(options.json ? JSON.stringify(collected, null, 2) : formatInfo(collected));
}
