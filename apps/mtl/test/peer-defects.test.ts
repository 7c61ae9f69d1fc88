// REFERENCE.md §1: the Snorkel/Emmental defects this project must not repeat, checked end to end
// through the CLI (the packages test each one at their own level too).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMetricsJsonl } from '@mtl/training/node';
import { describe, expect, it } from 'vitest';
import { cli, EXAMPLES, tempDir, writeConfig } from './helpers.js';

describe('peer defects, end to end', () => {
  it('Snorkel reports no per-task training loss: every task/dataset/train/loss is logged at every epoch', async () => {
    const out = join(tempDir(), 'run');
    await cli(
      'train',
      join(EXAMPLES, 'snorkel-basics.yaml'),
      '--out',
      out,
      '--quiet',
      '--set',
      'training.epochs=3',
    );
    const records = await readMetricsJsonl(join(out, 'metrics.jsonl'));
    expect(records).toHaveLength(3);
    for (const r of records) {
      for (const key of [
        'circle_task/circleDataset/train/loss',
        'square_task/squareDataset/train/loss',
        'model/all/train/loss',
      ]) {
        expect(Number.isFinite(r.metrics[key]), `${key} at step ${r.step}`).toBe(true);
      }
    }
  });

  it('Snorkel matches the validation split by substring: "valid_old" is not "valid"', async () => {
    const config = writeConfig(
      readFileSync(join(EXAMPLES, 'snorkel-basics.yaml'), 'utf8').replace(
        '{ kind: circle, n: 1000 }',
        '{ kind: circle, n: 1000, splits: { train: 0.7, valid: 0.1, valid_old: 0.1, test: 0.1 } }',
      ),
    );
    const out = join(tempDir(), 'run');
    const r = await cli('train', config, '--out', out, '--quiet', '--set', 'training.epochs=1');
    expect(r.err).toBe('');
    const [record] = await readMetricsJsonl(join(out, 'metrics.jsonl'));
    const keys = Object.keys(record!.metrics);
    expect(keys).toContain('circle_task/circleDataset/valid/accuracy');
    expect(keys.filter((k) => k.includes('valid_old'))).toEqual([]);
    // ...while the final scores cover every split, valid_old included.
    const scores = JSON.parse(readFileSync(join(out, 'scores.json'), 'utf8')) as Record<string, number>;
    expect(scores['circle_task/circleDataset/valid_old/accuracy']).toBeGreaterThan(0.5);
  });

  it("Emmental's default checkpoint metric is never produced and silently never saves: ours is an error", async () => {
    const r = await cli(
      'train',
      join(EXAMPLES, 'snorkel-basics.yaml'),
      '--out',
      join(tempDir(), 'run'),
      '--set',
      'training.checkpointMetric=model/all/valid/accuracy',
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('training.checkpointMetric: "model/all/valid/accuracy" is never produced');
    expect(r.err).toContain('model/all/valid/loss');
  });

  it('with a produced checkpoint metric the best model is saved and restored', async () => {
    const out = join(tempDir(), 'run');
    const r = await cli(
      'train',
      join(EXAMPLES, 'snorkel-basics.yaml'),
      '--out',
      out,
      '--quiet',
      '--set',
      'training.checkpointMetric=model/all/valid/loss',
      '--set',
      'training.epochs=4',
    );
    expect(r.err).toBe('');
    expect(readFileSync(join(out, 'checkpoints', 'best.ckpt')).length).toBeGreaterThan(0);
    const records = await readMetricsJsonl(join(out, 'metrics.jsonl'));
    const best = Math.min(...records.map((x) => x.metrics['model/all/valid/loss']!));
    const scores = JSON.parse(readFileSync(join(out, 'scores.json'), 'utf8')) as Record<string, number>;
    // restoreBest is on by default with a checkpoint metric: the final model is the best one.
    expect(scores['model/all/valid/loss']).toBeCloseTo(best, 6);
  });
});
