/**
 * The contract every metric keeps, built-in or registered by a user with `registerMetric`.
 *
 * A metric sees its rows already validated and flattened into `Float64Array`s, so each metric is a
 * plain loop (or a sort) over numbers and never re-checks shapes, finiteness or abstains.
 */

/**
 * Class ids (or real targets for regression) per row, or multi-label rows (n × L of 0/1).
 * @example
 * const classIds: Labels = Int32Array.from([0, 2, 1]);
 * const multiLabel: Labels = [[1, 0, 1], [0, 1, 0]];
 */
export type Labels = ArrayLike<number> | ArrayLike<ArrayLike<number>>;

/**
 * Probabilities (or scores) per row: rows `n × C` (e.g. `number[][]`, `Float32Array` subarrays), or
 * one number per row meaning P(class 1) of a binary task. A single-label row with one column is read
 * the same way (`[p]` = P(class 1)).
 * @example
 * const rows: Probs = [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]];
 * const binary: Probs = Float32Array.from([0.9, 0.2]); // P(class 1) per row
 */
export type Probs = ArrayLike<ArrayLike<number>> | ArrayLike<number>;

/**
 * What a metric is asked to score: `classification` labels are checked to be class ids.
 * @example
 * const kind: MetricKind = 'regression';
 */
export type MetricKind = 'classification' | 'regression' | 'any';

/**
 * A numeric parameter of a metric (`beta` of `fbeta`, `k` of top-k accuracy, `bins` of `ece`).
 * @example
 * const bins: MetricParam = { description: 'Number of bins.', default: 10, integer: true, min: 1 };
 */
export interface MetricParam {
  readonly description: string;
  /** Absent: the parameter is required. */
  readonly default?: number;
  readonly integer?: boolean;
  /** Smallest allowed value (inclusive unless `minExclusive`). */
  readonly min?: number;
  readonly minExclusive?: boolean;
  readonly max?: number;
}

/**
 * What {@link MetricDefinition.compute} receives: the rows to score, flattened and validated.
 * @example
 * const meanPred = ({ n, preds }: MetricInput) => preds.reduce((a, b) => a + b, 0) / n;
 */
export interface MetricInput {
  /** Rows scored: abstained rows are already dropped, except for metrics with `keepsAbstained`. */
  readonly n: number;
  /** True when golds and preds are multi-label rows. */
  readonly multiLabel: boolean;
  /** Values per row: 1 for single-label or regression, L for multi-label. */
  readonly width: number;
  /** Row-major `n × width`. Class ids are integers >= 0 (0/1 cells for multi-label). */
  readonly golds: Float64Array;
  readonly preds: Float64Array;
  /**
   * Row-major `n × classes`, or undefined when no probabilities were given. A binary single-label
   * input given as one column (or one number per row) arrives expanded to `[1 - p, p]`.
   */
  readonly probs: Float64Array | undefined;
  /** Columns of `probs` (0 without probs). */
  readonly classes: number;
  /** Every declared parameter, defaults filled in. */
  readonly params: Readonly<Record<string, number>>;
  readonly abstainLabel: number | null;
  /** The metric's key, to name the place in errors. */
  readonly place: string;
  /**
   * Call when the metric is undefined on these rows (e.g. precision with no predicted positive):
   * returns 0 under the scorer's default policy, or throws METRIC_UNDEFINED under `onUndefined: 'error'`.
   */
  whenUndefined(reason: string): number;
}

/**
 * A metric of the registry.
 * @example
 * const errorRate: MetricDefinition = {
 *   name: 'error_rate', description: 'Fraction of wrong predictions.', higherIsBetter: false,
 *   needsProbs: false, kind: 'classification', multiLabel: false,
 *   compute: ({ n, golds, preds }) => { let w = 0; for (let i = 0; i < n; i++) if (golds[i] !== preds[i]) w++; return w / n; },
 * };
 */
export interface MetricDefinition {
  /** Registry name: non-empty, no '/', '@' or whitespace. */
  readonly name: string;
  readonly description: string;
  readonly higherIsBetter: boolean;
  readonly needsProbs: boolean;
  /**
   * Whether `probs` may be any real scores (logits, margins). Otherwise the scorer requires every
   * prob in [0, 1] (rounding up to 1e-6 outside is clamped).
   */
  readonly acceptsScores?: boolean;
  /** `classification`: labels must be integers >= 0; `regression`: any finite numbers. */
  readonly kind: MetricKind;
  /** Whether multi-label rows (n × L of 0/1) are accepted. */
  readonly multiLabel: boolean;
  /** Sees every row, abstained ones included (only `coverage` among the built-ins). */
  readonly keepsAbstained?: boolean;
  readonly params?: Readonly<Record<string, MetricParam>>;
  /** The parameter set by the string form `prefix@value` (e.g. `k` for `accuracy@3`). */
  readonly atParam?: string;
  /** The prefix of that string form and of generated keys; defaults to `name`. */
  readonly atPrefix?: string;
  /** The values the metric can take, for documentation and property tests. */
  readonly range?: readonly [number, number];
  compute(input: MetricInput): number;
}

/**
 * One metric to compute: a registry name (`'f1_macro'`), a name with its main parameter
 * (`'accuracy@3'`, `'fbeta@2'`, `'ece@15'`), or an object with parameters
 * (`{name: 'fbeta', beta: 2}`) and optionally the key to report it under.
 * @example
 * const specs: MetricSpec[] = ['accuracy', 'accuracy@3', { name: 'fbeta', beta: 2, key: 'f2' }];
 */
export type MetricSpec = string | MetricSpecObject;

/**
 * A metric spec with parameters; see {@link MetricSpec}.
 * @example
 * const ece15: MetricSpecObject = { name: 'ece', bins: 15 }; // reported as 'ece@15'
 */
export interface MetricSpecObject {
  readonly name: string;
  /** The metric name in the score map; default: derived from name and parameters (see README). */
  readonly key?: string;
  readonly [param: string]: unknown;
}
