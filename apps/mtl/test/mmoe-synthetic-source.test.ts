import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RandomStream } from '@mtl/core';
import { makeMmoeSynthetic } from '@mtl/data';
import { describe, expect, it } from 'vitest';
import { loadSource } from '../src/build/data.js';
import { loadConfig } from '../src/config/index.js';
import { cli, EXAMPLES, writeConfig } from './helpers.js';

const example = readFileSync(join(EXAMPLES, 'mmoe-synthetic.yaml'), 'utf8');

describe('the mmoe_synthetic data source', () => {
  it('passes weightScale, sines, alphas and betas to the generator', async () => {
    const file = writeConfig(example);
    const set = [
      'data.synthetic.n=50',
      'data.synthetic.dim=5',
      'data.synthetic.seed=9',
      'data.synthetic.weightScale=0.3',
      'data.synthetic.sines=2',
      'data.synthetic.alphas=[0.5, -2]',
      'data.synthetic.betas=normal',
    ];
    const { config } = loadConfig(file, set);
    const source = config.data.synthetic!;
    if (source.kind !== 'mmoe_synthetic') throw new Error(`expected mmoe_synthetic, got ${source.kind}`);
    const loaded = await loadSource('synthetic', source, file, new RandomStream(1));
    const want = makeMmoeSynthetic(
      { n: 50, dim: 5, correlation: 0.5, scale: 0.3, sines: 2, alphas: [0.5, -2], betas: 'normal' },
      9,
    );
    const got = loaded.groups[0]!.test!.labelValues('y2');
    expect(Array.from(got)).toEqual(Array.from(want.splits.test!.labelValues('y2')));
    // ... and not the default a_j = j (the list reached the generator).
    const paper = makeMmoeSynthetic({ n: 50, dim: 5, correlation: 0.5, scale: 0.3, sines: 2 }, 9);
    expect(got[0]).not.toBeCloseTo(paper.splits.test!.labelValues('y2')[0]!, 3);
  });

  it('refuses alphas / betas whose length is not `sines`, at their config path', async () => {
    const cases: [string[], string, RegExp][] = [
      [
        ['data.synthetic.alphas=[1, 2]'],
        'data.synthetic.alphas',
        /needs 10 values, one per sine \(sines: 10\), got 2/,
      ],
      [['data.synthetic.sines=1', 'data.synthetic.betas=[1, 2]'], 'data.synthetic.betas', /needs 1 values/],
      [['data.synthetic.alphas=uniform'], 'data.synthetic.alphas', /normal/],
    ];
    for (const [set, place, message] of cases) {
      const r = await cli('validate', writeConfig(example), ...set.flatMap((s) => ['--set', s]));
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(place);
      expect(r.err).toMatch(message);
    }
  });
});
