import { listNames, MtlError, toMtlError } from '@mtl/core/base';
import {
  type LabelTable,
  type ProbTable,
  readLabels,
  readProbs,
  rowAbstains,
  takeRows,
} from './internal/input.js';
import type { Labels, MetricInput, MetricSpec, Probs } from './metric.js';
import { listMetrics, type ResolvedMetric, resolveMetricSpec } from './metric-registry.js';

/**
 * A metric written as a function, for one Scorer. It gets the rows left after dropping abstains,
 * in the shapes they were given (labels as `number[]` or rows, probs as given or undefined), and
 * returns a number reported under its name, or several named numbers reported under their own
 * names (no '/' in them).
 * @example
 * const positives: CustomMetric = (golds) => Array.from(golds as ArrayLike<number>).filter((g) => g === 1).length;
 */
export type CustomMetric = (
  golds: Labels,
  preds: Labels,
  probs: Probs | undefined,
) => number | Readonly<Record<string, number>>;

/**
 * What to do when a metric is undefined on the rows (0/0, a single class, constant golds).
 * @example
 * new Scorer({ metrics: ['precision'], onUndefined: 'error' }); // throws METRIC_UNDEFINED instead of giving 0
 */
export type UndefinedPolicy = 'zero' | 'error';

/**
 * Options of a {@link Scorer}.
 * @example
 * const options: ScorerOptions = { metrics: ['mse', 'r2'], abstainLabel: null };
 */
export interface ScorerOptions {
  /** Registry metrics to compute, in this order. Default: `['accuracy']`. */
  readonly metrics?: readonly MetricSpec[];
  /** Function metrics keyed by name, computed after the registry ones. */
  readonly customMetrics?: Readonly<Record<string, CustomMetric>>;
  /**
   * Rows whose gold or pred equals this label are dropped (except for `coverage`, `scored` and
   * `abstained`), as are rows with a NaN gold whatever this is. Default -1.
   * `null` keeps every row: use it for regression, where -1 can be a real target.
   */
  readonly abstainLabel?: number | null;
  /**
   * `zero` (default): an undefined metric is 0, as sklearn's `zero_division=0`, so the map never holds
   * NaN; `error`: it throws METRIC_UNDEFINED naming the metric and why.
   */
  readonly onUndefined?: UndefinedPolicy;
}

/**
 * The JSON-able part of a Scorer's options (custom metric functions are not).
 * @example
 * const copy = new Scorer(scorer.getConfig());
 */
export interface ScorerConfig {
  metrics: MetricSpec[];
  abstainLabel: number | null;
  onUndefined: UndefinedPolicy;
}

function isValidMetricKey(name: string): boolean {
  return name !== '' && !name.includes('/');
}

/**
 * Scores one task on one dataset split: golds, preds and optional probs in, `metric -> number` out.
 *
 * Rows whose gold or pred is the abstain label, or whose gold is NaN (a missing target, whatever the
 * abstain label), are dropped for every metric except `coverage`, `scored` and `abstained`, which
 * count them; if no row is left, ALL_ABSTAIN. Multi-label rows (n × L of 0/1) are accepted by the metrics whose
 * registry entry says `multiLabel` (accuracy as subset accuracy, coverage, f1_micro, f1_macro,
 * roc_auc); the others refuse them.
 * @example
 * const scorer = new Scorer({ metrics: ['accuracy', 'f1', { name: 'fbeta', beta: 2 }, 'roc_auc'] });
 * scorer.score([0, 1, 1, 0], [0, 1, 0, 0], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]);
 * // { accuracy: 0.75, f1: 0.666..., 'fbeta@2': 0.555..., roc_auc: 1 }
 */
export class Scorer {
  readonly abstainLabel: number | null;
  readonly onUndefined: UndefinedPolicy;
  /** The registry metrics with their parameters and keys, in order. */
  readonly metrics: readonly ResolvedMetric[];
  /** Names of the function metrics (one that returns a record reports that record's names instead). */
  readonly customMetricNames: readonly string[];
  /** Every key `score` returns when no custom metric returns a record. */
  readonly metricKeys: readonly string[];
  /** Whether some metric needs probs. */
  readonly needsProbs: boolean;
  private readonly specs: MetricSpec[];
  private readonly custom: Readonly<Record<string, CustomMetric>>;

  constructor(options: ScorerOptions = {}) {
    const abstain = options.abstainLabel === undefined ? -1 : options.abstainLabel;
    if (abstain !== null && (typeof abstain !== 'number' || !Number.isFinite(abstain))) {
      throw new MtlError('INVALID_ARGUMENT', `abstainLabel must be a finite number or null, got ${abstain}`, {
        place: 'Scorer.abstainLabel',
      });
    }
    const policy = options.onUndefined ?? 'zero';
    if (policy !== 'zero' && policy !== 'error') {
      throw new MtlError('INVALID_ARGUMENT', `onUndefined must be 'zero' or 'error', got ${String(policy)}`, {
        place: 'Scorer.onUndefined',
      });
    }
    this.abstainLabel = abstain;
    this.onUndefined = policy;
    this.custom = { ...(options.customMetrics ?? {}) };
    this.specs = [...(options.metrics ?? (options.customMetrics === undefined ? ['accuracy'] : []))];
    this.metrics = this.specs.map((spec) => resolveMetricSpec(spec));
    this.customMetricNames = Object.keys(this.custom);
    for (const name of this.customMetricNames) {
      if (!isValidMetricKey(name)) {
        throw new MtlError('INVALID_ARGUMENT', `custom metric name must be non-empty without '/'`, {
          place: `Scorer.customMetrics ${JSON.stringify(name)}`,
        });
      }
      if (typeof this.custom[name] !== 'function') {
        throw new MtlError('INVALID_ARGUMENT', 'a custom metric must be a function', {
          place: `Scorer.customMetrics ${name}`,
        });
      }
    }
    const keys = [...this.metrics.map((m) => m.key), ...this.customMetricNames];
    const seen = new Set<string>();
    for (const key of keys) {
      if (seen.has(key)) {
        throw new MtlError('DUPLICATE_NAME', `metric ${key} is asked for twice (give one a different key)`, {
          place: 'Scorer.metrics',
        });
      }
      seen.add(key);
    }
    if (keys.length === 0) {
      throw new MtlError('INVALID_ARGUMENT', 'no metric to compute', { place: 'Scorer.metrics' });
    }
    this.metricKeys = keys;
    this.needsProbs = this.metrics.some((m) => m.definition.needsProbs);
  }

  /** The JSON-able options (custom metric functions excluded), for saving with a model. */
  getConfig(): ScorerConfig {
    return { metrics: [...this.specs], abstainLabel: this.abstainLabel, onUndefined: this.onUndefined };
  }

  /**
   * Scores golds against preds (class ids; real targets for regression metrics; or multi-label rows),
   * with probs rows `n × C` for the metrics that need them.
   */
  score(golds: Labels, preds: Labels, probs?: Probs): Record<string, number> {
    const g = readLabels(golds, 'golds', true);
    const p = readLabels(preds, 'preds');
    if (g.n !== p.n) {
      throw new MtlError('DATA_LENGTH_MISMATCH', `golds have ${g.n} rows but preds have ${p.n}`, {
        place: 'preds',
      });
    }
    if (g.n === 0) throw new MtlError('DATA_EMPTY', 'no rows to score', { place: 'golds' });
    if (g.multiLabel !== p.multiLabel || g.width !== p.width) {
      const shape = (t: LabelTable) => (t.multiLabel ? `rows of ${t.width} labels` : 'one label per row');
      throw new MtlError('DATA_SHAPE_MISMATCH', `golds have ${shape(g)} but preds have ${shape(p)}`, {
        place: 'preds',
      });
    }
    const probMetrics = this.metrics.filter((m) => m.definition.needsProbs);
    if (probs === undefined) {
      if (probMetrics.length > 0) {
        throw new MtlError('INVALID_ARGUMENT', 'this metric needs probs: call score(golds, preds, probs)', {
          place: probMetrics[0].key,
        });
      }
    }
    for (const m of this.metrics) {
      if (g.multiLabel && !m.definition.multiLabel) {
        const able = listMetrics()
          .filter((d) => d.multiLabel)
          .map((d) => d.name);
        throw new MtlError(
          'INVALID_ARGUMENT',
          `does not take multi-label rows; metrics that do: ${listNames(able)}`,
          { place: m.key },
        );
      }
    }
    if (probs !== undefined && probs?.length !== g.n) {
      throw new MtlError('DATA_LENGTH_MISMATCH', `probs have ${probs?.length} rows but golds have ${g.n}`, {
        place: 'probs',
      });
    }
    // Probs no registry metric reads are passed through to custom metrics unchecked.
    const unitRange = probMetrics.some((m) => !m.definition.acceptsScores);
    const pt = probs === undefined || probMetrics.length === 0 ? undefined : readProbs(probs, g, unitRange);

    const keep = this.keptRows(g, p);
    const filtering =
      this.metrics.some((m) => !m.definition.keepsAbstained) || this.customMetricNames.length > 0;
    if (filtering && keep.length === 0) {
      const label = this.abstainLabel;
      throw new MtlError(
        'ALL_ABSTAIN',
        `all ${g.n} rows abstain (${label === null ? 'a missing (NaN) gold' : `gold or pred = ${label}, or a missing (NaN) gold`}); nothing to score for ${listNames(
          [
            ...this.metrics.filter((m) => !m.definition.keepsAbstained).map((m) => m.key),
            ...this.customMetricNames,
          ],
        )}`,
        { place: 'Scorer.score' },
      );
    }
    const all = keep.length === g.n;
    const kept = {
      n: keep.length,
      golds: all ? g.data : takeRows(g.data, g.width, keep),
      preds: all ? p.data : takeRows(p.data, p.width, keep),
      probs: pt === undefined || all ? pt?.data : takeRows(pt.data, pt.classes, keep),
    };

    if (this.metrics.some((m) => m.definition.kind === 'classification')) {
      this.checkClassLabels(g, p, keep, pt);
    }

    const out: Record<string, number> = {};
    for (const m of this.metrics) {
      const rows = m.definition.keepsAbstained
        ? { n: g.n, golds: g.data, preds: p.data, probs: pt?.data }
        : kept;
      const policy = this.onUndefined;
      const input: MetricInput = {
        n: rows.n,
        multiLabel: g.multiLabel,
        width: g.width,
        golds: rows.golds,
        preds: rows.preds,
        probs: rows.probs,
        classes: pt?.classes ?? 0,
        params: m.params,
        abstainLabel: this.abstainLabel,
        place: m.key,
        whenUndefined(reason: string): number {
          if (policy === 'zero') return 0;
          throw new MtlError('METRIC_UNDEFINED', `undefined on these rows: ${reason}`, { place: m.key });
        },
      };
      const value = m.definition.compute(input);
      if (typeof value !== 'number' || Number.isNaN(value)) {
        throw new MtlError(
          'METRIC_UNDEFINED',
          `computed ${value}; a metric must call whenUndefined instead`,
          {
            place: m.key,
          },
        );
      }
      out[m.key] = value;
    }
    if (this.customMetricNames.length > 0) this.scoreCustom(golds, preds, probs, keep, all, out);
    return out;
  }

  private keptRows(g: LabelTable, p: LabelTable): Uint32Array {
    const keep = new Uint32Array(g.n);
    let count = 0;
    for (let i = 0; i < g.n; i++) {
      if (!rowAbstains(g.data, p.data, g.width, i, this.abstainLabel)) keep[count++] = i;
    }
    return keep.subarray(0, count);
  }

  /** Class ids must be integers >= 0 (0/1 cells when multi-label), and index a column of probs. */
  private checkClassLabels(g: LabelTable, p: LabelTable, keep: Uint32Array, pt: ProbTable | undefined): void {
    const needsColumn =
      pt !== undefined && !g.multiLabel && this.metrics.some((m) => m.definition.needsProbs);
    for (const [t, name] of [
      [g, 'golds'],
      [p, 'preds'],
    ] as const) {
      for (let j = 0; j < keep.length; j++) {
        const i = keep[j];
        for (let l = 0; l < t.width; l++) {
          const v = t.data[i * t.width + l];
          const place = t.multiLabel ? `${name}[${i}][${l}]` : `${name}[${i}]`;
          if (t.multiLabel ? v !== 0 && v !== 1 : !Number.isInteger(v) || v < 0) {
            const want = t.multiLabel
              ? 'a multi-label cell must be 0 or 1'
              : 'a class id must be an integer >= 0';
            throw new MtlError('LABEL_OUT_OF_RANGE', `${want}, got ${v}`, { place });
          }
          if (needsColumn && name === 'golds' && v >= pt.classes) {
            throw new MtlError(
              'LABEL_OUT_OF_RANGE',
              `class ${v} but probs have ${pt.classes} columns (classes 0..${pt.classes - 1})`,
              { place },
            );
          }
        }
      }
    }
  }

  private scoreCustom(
    golds: Labels,
    preds: Labels,
    probs: Probs | undefined,
    keep: Uint32Array,
    all: boolean,
    out: Record<string, number>,
  ): void {
    const pick = <T>(x: ArrayLike<T>): T[] => Array.from(keep, (i) => x[i]);
    const fg = (all ? golds : pick<unknown>(golds)) as Labels;
    const fp = (all ? preds : pick<unknown>(preds)) as Labels;
    const fprobs = probs === undefined || all ? probs : (pick<unknown>(probs) as Probs);
    for (const name of this.customMetricNames) {
      const place = `custom metric ${name}`;
      let result: number | Readonly<Record<string, number>>;
      try {
        result = this.custom[name](fg, fp, fprobs);
      } catch (e) {
        throw toMtlError(e, place);
      }
      const entries: [string, unknown][] =
        typeof result === 'number'
          ? [[name, result]]
          : typeof result === 'object' && result !== null
            ? Object.entries(result)
            : [[name, result]];
      for (const [key, value] of entries) {
        if (typeof value !== 'number') {
          throw new MtlError('INVALID_ARGUMENT', `returned ${typeof value} for ${key}; expected a number`, {
            place,
          });
        }
        if (!Number.isFinite(value)) {
          throw new MtlError('METRIC_UNDEFINED', `returned ${value} for ${key}`, { place });
        }
        if (!isValidMetricKey(key)) {
          throw new MtlError('INVALID_ARGUMENT', `returned the name ${JSON.stringify(key)}: no '/' allowed`, {
            place,
          });
        }
        if (Object.hasOwn(out, key)) {
          throw new MtlError('DUPLICATE_NAME', `returned ${key}, which another metric already reported`, {
            place,
          });
        }
        out[key] = value;
      }
    }
  }
}
