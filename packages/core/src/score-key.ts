import { MtlError } from './errors.js';

/**
 * The task part of model-wide score keys (`model/all/train/loss`).
 * @example
 * scoreKey(MODEL_TASK, ALL_DATASET, 'train', 'loss'); // 'model/all/train/loss'
 */
export const MODEL_TASK = 'model';
/**
 * The dataset part of model-wide score keys.
 * @example
 * parseScoreKey('model/all/valid/loss').dataset === ALL_DATASET; // true
 */
export const ALL_DATASET = 'all';

/**
 * The four parts of a score key `task/dataset/split/metric`.
 * @example
 * const parts: ScoreKeyParts = { task: 'circle_task', dataset: 'circleDataset', split: 'valid', metric: 'f1' };
 */
export interface ScoreKeyParts {
  readonly task: string;
  readonly dataset: string;
  readonly split: string;
  readonly metric: string;
}

const PART_NAMES = ['task', 'dataset', 'split', 'metric'] as const;

function checkPart(key: string, name: string, part: unknown): void {
  if (typeof part !== 'string' || part === '' || part.includes('/')) {
    const why =
      typeof part !== 'string' ? `is ${typeof part}` : part === '' ? 'is empty' : `"${part}" contains '/'`;
    throw new MtlError('SCORE_KEY_INVALID', `score key "${key}": its ${name} ${why}`, {
      place: 'score key',
      details: { key },
    });
  }
}

/**
 * Builds `task/dataset/split/metric`. Every part must be non-empty and free of '/'
 * (SCORE_KEY_INVALID otherwise), so that {@link parseScoreKey} gives the parts back.
 * @example
 * scoreKey('circle_task', 'circleDataset', 'valid', 'accuracy'); // 'circle_task/circleDataset/valid/accuracy'
 * scoreKey({ task: 'model', dataset: 'all', split: 'train', metric: 'loss' }); // 'model/all/train/loss'
 */
export function scoreKey(parts: ScoreKeyParts): string;
export function scoreKey(task: string, dataset: string, split: string, metric: string): string;
export function scoreKey(
  taskOrParts: string | ScoreKeyParts,
  dataset?: string,
  split?: string,
  metric?: string,
): string {
  const parts: unknown[] =
    typeof taskOrParts === 'object' && taskOrParts !== null
      ? [taskOrParts.task, taskOrParts.dataset, taskOrParts.split, taskOrParts.metric]
      : [taskOrParts, dataset, split, metric];
  const key = parts.map(String).join('/');
  PART_NAMES.forEach((name, i) => {
    checkPart(key, name, parts[i]);
  });
  return key;
}

/**
 * A model-wide key `model/all/<split>/<metric>`.
 * @example
 * modelScoreKey('train', 'lr'); // 'model/all/train/lr'
 */
export function modelScoreKey(split: string, metric: string): string {
  return scoreKey(MODEL_TASK, ALL_DATASET, split, metric);
}

/**
 * Splits a score key into its four parts; SCORE_KEY_INVALID (the message quotes the key) when it
 * has another number of parts or an empty part.
 * @example
 * parseScoreKey('circle_task/circleDataset/valid/accuracy').split; // 'valid'
 */
export function parseScoreKey(key: string): ScoreKeyParts {
  if (typeof key !== 'string') {
    throw new MtlError('SCORE_KEY_INVALID', `a score key is a string, got ${typeof key}`, {
      place: 'score key',
    });
  }
  const parts = key.split('/');
  if (parts.length !== 4) {
    throw new MtlError(
      'SCORE_KEY_INVALID',
      `score key "${key}" has ${parts.length} part${parts.length === 1 ? '' : 's'}; expected task/dataset/split/metric`,
      { place: 'score key', details: { key } },
    );
  }
  PART_NAMES.forEach((name, i) => {
    checkPart(key, name, parts[i]);
  });
  return { task: parts[0], dataset: parts[1], split: parts[2], metric: parts[3] };
}

/**
 * Whether `key` is a well-formed score key (no throw).
 * @example
 * isScoreKey('a/b/c'); // false
 */
export function isScoreKey(key: string): boolean {
  try {
    parseScoreKey(key);
    return true;
  } catch {
    return false;
  }
}
