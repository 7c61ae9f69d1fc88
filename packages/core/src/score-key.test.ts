import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMtlError } from './errors.js';
import { ALL_DATASET, isScoreKey, MODEL_TASK, modelScoreKey, parseScoreKey, scoreKey } from './score-key.js';

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isMtlError(e, 'SCORE_KEY_INVALID')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a throw');
}

describe('score keys', () => {
  it('build and parse task/dataset/split/metric', () => {
    const key = scoreKey('circle_task', 'circleDataset', 'valid', 'accuracy');
    expect(key).toBe('circle_task/circleDataset/valid/accuracy');
    expect(parseScoreKey(key)).toEqual({
      task: 'circle_task',
      dataset: 'circleDataset',
      split: 'valid',
      metric: 'accuracy',
    });
    expect(scoreKey({ task: 't', dataset: 'd', split: 's', metric: 'accuracy@3' })).toBe('t/d/s/accuracy@3');
  });

  it('model-wide keys use the exported constants', () => {
    expect([MODEL_TASK, ALL_DATASET]).toEqual(['model', 'all']);
    expect(modelScoreKey('train', 'loss')).toBe('model/all/train/loss');
  });

  it('reject wrong part counts, empty parts and parts with "/", quoting the key', () => {
    expect(message(() => parseScoreKey('a/b/c'))).toBe(
      'score key: score key "a/b/c" has 3 parts; expected task/dataset/split/metric',
    );
    expect(message(() => parseScoreKey('a/b/c/d/e'))).toMatch(/"a\/b\/c\/d\/e" has 5 parts/);
    expect(message(() => parseScoreKey('accuracy'))).toMatch(/has 1 part;/);
    expect(message(() => parseScoreKey('a//c/d'))).toBe(
      'score key: score key "a//c/d": its dataset is empty',
    );
    expect(message(() => scoreKey('a', 'b/x', 'c', 'd'))).toBe(
      'score key: score key "a/b/x/c/d": its dataset "b/x" contains \'/\'',
    );
    expect(message(() => scoreKey('a', 'b', 'c', ''))).toMatch(/its metric is empty/);
    expect(isScoreKey('a/b/c/d')).toBe(true);
    expect(isScoreKey('a/b/c/')).toBe(false);
  });

  it('parse(build(parts)) gives the parts back', () => {
    const part = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !s.includes('/'));
    fc.assert(
      fc.property(part, part, part, part, (task, dataset, split, metric) => {
        expect(parseScoreKey(scoreKey(task, dataset, split, metric))).toEqual({
          task,
          dataset,
          split,
          metric,
        });
      }),
    );
  });
});
