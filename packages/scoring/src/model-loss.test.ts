import { describe, expect, it } from 'vitest';
import { withModelLoss } from './model-loss.js';

describe('withModelLoss', () => {
  it('adds model/all/<split>/loss = Σ weight·task loss per split, leaving other keys and unweighted tasks out', () => {
    const scores = {
      'a/d/valid/loss': 0.5,
      'b/e/valid/loss': 0.25,
      'a/d/valid/accuracy': 0.9,
      'a/d/test/loss': 1,
      'c/d/test/loss': 7, // a task of no weight (not trained in this run)
      'model/all/valid/loss': 99, // replaced, never summed into itself
    };
    const out = withModelLoss(scores, { a: 2, b: 1 });
    expect(out).toEqual({
      ...scores,
      'model/all/valid/loss': 1.25,
      'model/all/test/loss': 2,
    });
    expect(scores['model/all/valid/loss']).toBe(99); // the input is not changed
    expect(withModelLoss({ 'a/d/valid/accuracy': 1 }, { a: 1 })).toEqual({ 'a/d/valid/accuracy': 1 });
  });
});
