import { listNames, MtlError } from '@mtl/core/base';
import type { MetricDefinition, MetricParam, MetricSpec } from './metric.js';
import { CLASSIFICATION_METRICS } from './metrics/classification.js';
import { PROBABILISTIC_METRICS } from './metrics/probabilistic.js';
import { REGRESSION_METRICS } from './metrics/regression.js';

const BUILT_IN = new Set<string>();
const registry = new Map<string, MetricDefinition>();

for (const def of [...CLASSIFICATION_METRICS, ...PROBABILISTIC_METRICS, ...REGRESSION_METRICS]) {
  registry.set(def.name, def);
  BUILT_IN.add(def.name);
}

/**
 * Score names that no metric of the registry computes but that score maps carry (a model's `loss`),
 * with their direction, so that multitask improvement knows them.
 */
const KNOWN_DIRECTIONS: Readonly<Record<string, boolean>> = { loss: false };

/** A metric name as it may appear in a registry or a score key: non-empty, no '/', '@' or whitespace. */
function isValidName(name: string): boolean {
  return /^[^\s/@]+$/.test(name);
}

function atPrefixOf(def: MetricDefinition): string {
  return def.atPrefix ?? def.name;
}

/** Names a user may write: every registry name, and `prefix@value` forms (`accuracy@k`). */
function knownSpellings(): string[] {
  const out: string[] = [];
  for (const def of registry.values()) {
    out.push(def.name);
    if (def.atParam !== undefined) out.push(`${atPrefixOf(def)}@${def.atParam}`);
  }
  return out;
}

function validateParam(def: MetricDefinition, key: string, value: unknown, spec: MetricParam): number {
  const place = `metric ${def.name}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new MtlError('INVALID_ARGUMENT', `parameter ${key} must be a finite number, got ${String(value)}`, {
      place,
    });
  }
  const tooSmall = spec.min !== undefined && (spec.minExclusive ? value <= spec.min : value < spec.min);
  const tooLarge = spec.max !== undefined && value > spec.max;
  if ((spec.integer && !Number.isInteger(value)) || tooSmall || tooLarge) {
    const rules = [
      spec.integer ? 'an integer' : 'a number',
      spec.min !== undefined ? `${spec.minExclusive ? '>' : '>='} ${spec.min}` : '',
      spec.max !== undefined ? `<= ${spec.max}` : '',
    ].filter((s) => s !== '');
    throw new MtlError('INVALID_ARGUMENT', `parameter ${key} must be ${rules.join(', ')}; got ${value}`, {
      place,
    });
  }
  return value;
}

/**
 * Adds a metric to the registry so that Scorers can name it in `metrics`. Built-in metrics cannot be
 * replaced; a user metric can, with `{replace: true}`.
 * @example
 * registerMetric({
 *   name: 'error_rate', description: 'Fraction of wrong predictions.', higherIsBetter: false,
 *   needsProbs: false, kind: 'classification', multiLabel: false, range: [0, 1],
 *   compute: ({ n, golds, preds }) => { let w = 0; for (let i = 0; i < n; i++) if (golds[i] !== preds[i]) w++; return w / n; },
 * });
 * new Scorer({ metrics: ['error_rate'] }).score([0, 1, 1], [0, 1, 0]); // { error_rate: 0.333... }
 */
export function registerMetric(definition: MetricDefinition, options: { replace?: boolean } = {}): void {
  const { name } = definition;
  const place = `registerMetric ${String(name)}`;
  if (typeof name !== 'string' || !isValidName(name)) {
    throw new MtlError('INVALID_ARGUMENT', `metric name must be non-empty without '/', '@' or spaces`, {
      place,
    });
  }
  if (typeof definition.compute !== 'function') {
    throw new MtlError('INVALID_ARGUMENT', 'compute must be a function', { place });
  }
  if (typeof definition.higherIsBetter !== 'boolean' || typeof definition.needsProbs !== 'boolean') {
    throw new MtlError('INVALID_ARGUMENT', 'higherIsBetter and needsProbs must be booleans', { place });
  }
  if (!['classification', 'regression', 'any'].includes(definition.kind)) {
    throw new MtlError('INVALID_ARGUMENT', `kind must be classification, regression or any`, { place });
  }
  if (BUILT_IN.has(name)) {
    throw new MtlError('DUPLICATE_NAME', `${name} is a built-in metric and cannot be replaced`, { place });
  }
  if (registry.has(name) && !options.replace) {
    throw new MtlError('DUPLICATE_NAME', `metric ${name} is already registered (pass {replace: true})`, {
      place,
    });
  }
  const params = definition.params ?? {};
  for (const [key, spec] of Object.entries(params)) {
    if (key === 'name' || key === 'key') {
      throw new MtlError('INVALID_ARGUMENT', `parameter name ${key} is reserved`, { place });
    }
    if (spec.default !== undefined) validateParam(definition, key, spec.default, spec);
  }
  if (definition.atParam !== undefined) {
    if (!(definition.atParam in params)) {
      throw new MtlError('INVALID_ARGUMENT', `atParam ${definition.atParam} is not one of its params`, {
        place,
      });
    }
    const prefix = atPrefixOf(definition);
    if (!isValidName(prefix)) {
      throw new MtlError('INVALID_ARGUMENT', `atPrefix must be non-empty without '/', '@' or spaces`, {
        place,
      });
    }
    for (const other of registry.values()) {
      if (other.name !== name && other.atParam !== undefined && atPrefixOf(other) === prefix) {
        throw new MtlError('DUPLICATE_NAME', `${prefix}@... already means metric ${other.name}`, { place });
      }
    }
  }
  registry.set(name, definition);
}

/**
 * Removes a user metric (built-ins stay). Returns whether it was registered.
 * @example
 * unregisterMetric('error_rate');
 */
export function unregisterMetric(name: string): boolean {
  if (BUILT_IN.has(name)) {
    throw new MtlError('INVALID_ARGUMENT', `${name} is a built-in metric and cannot be removed`, {
      place: `unregisterMetric ${name}`,
    });
  }
  return registry.delete(name);
}

/**
 * The registry entry of `name`; UNKNOWN_METRIC (listing the known names) otherwise.
 * @example
 * getMetric('log_loss').higherIsBetter; // false
 */
export function getMetric(name: string): MetricDefinition {
  const def = registry.get(name);
  if (def === undefined) {
    throw new MtlError('UNKNOWN_METRIC', `unknown metric "${name}"; known: ${listNames(knownSpellings())}`, {
      place: `metric ${name}`,
      details: { known: knownSpellings().sort() },
    });
  }
  return def;
}

/**
 * Every metric of the registry, sorted by name.
 * @example
 * listMetrics().filter((m) => m.needsProbs).map((m) => m.name); // ['brier', 'ece', 'log_loss', 'roc_auc', 'top_k_accuracy']
 */
export function listMetrics(): MetricDefinition[] {
  return [...registry.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * A metric spec resolved against the registry.
 * @example
 * const { key, params }: ResolvedMetric = resolveMetricSpec('ece@15'); // 'ece@15', { bins: 15 }
 */
export interface ResolvedMetric {
  readonly definition: MetricDefinition;
  /** Every declared parameter with defaults filled in. */
  readonly params: Readonly<Record<string, number>>;
  /** The metric name it is reported under. */
  readonly key: string;
}

function formatParam(value: number): string {
  return String(value);
}

/**
 * Resolves a spec to its registry entry, parameters and key. Keys: the metric name when every
 * parameter is at its default; `prefix@value` when the main parameter is not (`fbeta@2`,
 * `accuracy@3`, `ece@15`); any other non-default parameter appends `[param=value]`; `key` overrides.
 * @example
 * resolveMetricSpec({ name: 'fbeta', beta: 2 }).key; // 'fbeta@2'
 * resolveMetricSpec('accuracy@3').definition.name;  // 'top_k_accuracy'
 */
export function resolveMetricSpec(spec: MetricSpec): ResolvedMetric {
  const text = typeof spec === 'string' ? spec : spec?.name;
  if (typeof text !== 'string' || text === '') {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `a metric spec is a name or {name, ...params}, got ${JSON.stringify(spec)}`,
      {
        place: 'metrics',
      },
    );
  }
  let def = registry.get(text);
  const given: Record<string, unknown> = {};
  if (def === undefined) {
    const at = text.indexOf('@');
    if (at > 0) {
      const prefix = text.slice(0, at);
      const raw = text.slice(at + 1);
      def = [...registry.values()].find((d) => d.atParam !== undefined && atPrefixOf(d) === prefix);
      if (def !== undefined) given[def.atParam!] = raw.trim() === '' ? Number.NaN : Number(raw);
    }
  }
  if (def === undefined) getMetric(text); // throws UNKNOWN_METRIC with the known names
  const definition = def!;
  const place = `metric ${text}`;
  const declared = definition.params ?? {};
  if (typeof spec !== 'string') {
    for (const [k, v] of Object.entries(spec)) {
      if (k === 'name' || k === 'key' || v === undefined) continue;
      if (!(k in declared)) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          `unknown parameter ${k}; ${definition.name} takes ${listNames(Object.keys(declared))}` +
            (k === 'k' ? " (top-k accuracy is 'accuracy@k' or {name: 'top_k_accuracy', k})" : ''),
          { place },
        );
      }
      given[k] = v;
    }
  }
  const params: Record<string, number> = {};
  const nonDefault: string[] = [];
  for (const [k, p] of Object.entries(declared)) {
    if (given[k] === undefined) {
      if (p.default === undefined) {
        const hint = definition.atParam === k ? ` (write '${atPrefixOf(definition)}@<${k}>')` : '';
        throw new MtlError('INVALID_ARGUMENT', `parameter ${k} is required${hint}`, { place });
      }
      params[k] = p.default;
    } else {
      params[k] = validateParam(definition, k, given[k], p);
    }
    if (params[k] !== p.default) nonDefault.push(k);
  }
  let key: string;
  if (typeof spec !== 'string' && spec.key !== undefined) {
    if (typeof spec.key !== 'string' || spec.key === '' || spec.key.includes('/')) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `key must be a non-empty string without '/', got ${JSON.stringify(spec.key)}`,
        {
          place,
        },
      );
    }
    key = spec.key;
  } else {
    const main = definition.atParam;
    key =
      main !== undefined && nonDefault.includes(main)
        ? `${atPrefixOf(definition)}@${formatParam(params[main])}`
        : definition.name;
    const rest = nonDefault.filter((k) => k !== main).sort();
    if (rest.length > 0) key += `[${rest.map((k) => `${k}=${formatParam(params[k])}`).join(',')}]`;
  }
  return { definition, params, key };
}

/**
 * Whether a larger value of the metric named in a score key is better: from the overrides, then
 * the registry (parameterised keys such as `fbeta@2` or `log_loss[eps=1e-7]` included), then
 * `loss` (lower is better). UNKNOWN_METRIC otherwise.
 * @example
 * metricHigherIsBetter('accuracy@3'); // true
 * metricHigherIsBetter('mse');        // false
 * metricHigherIsBetter('my_custom', { my_custom: false }); // false
 */
export function metricHigherIsBetter(
  metric: string,
  overrides: Readonly<Record<string, boolean>> = {},
): boolean {
  if (Object.hasOwn(overrides, metric)) return overrides[metric];
  const base = metric.replace(/\[.*\]$/, '');
  const exact = registry.get(base);
  if (exact !== undefined) return exact.higherIsBetter;
  const at = base.indexOf('@');
  if (at > 0) {
    const prefix = base.slice(0, at);
    const def = [...registry.values()].find((d) => d.atParam !== undefined && atPrefixOf(d) === prefix);
    if (def !== undefined) return def.higherIsBetter;
  }
  if (Object.hasOwn(KNOWN_DIRECTIONS, base)) return KNOWN_DIRECTIONS[base];
  throw new MtlError(
    'UNKNOWN_METRIC',
    `no direction known for metric "${metric}": pass it in higherIsBetter; known: ${listNames([
      ...knownSpellings(),
      ...Object.keys(KNOWN_DIRECTIONS),
    ])}`,
    { place: `metric ${metric}` },
  );
}
