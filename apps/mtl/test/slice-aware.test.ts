import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, EXAMPLES, readJson, tempDir, writeConfig } from './helpers.js';

const example = join(EXAMPLES, 'slice-aware.yaml');

describe('slicing functions and the slice-aware model from the config', () => {
  it("the example's slice-aware model beats the plain model on its hard slice, on the shipped seed", async () => {
    const dir = tempDir();
    const scores: Record<string, Record<string, number>> = {};
    for (const [name, aware] of [
      ['plain', 'false'],
      ['aware', 'true'],
    ]) {
      const r = await cli(
        'train',
        example,
        '--set',
        `tasks.y.sliceAware=${aware}`,
        '--out',
        join(dir, name!),
        '--quiet',
      );
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      scores[name!] = readJson<Record<string, number>>(join(dir, name!, 'scores.json'));
    }
    const corner = 'y/points/test/slice:corner:accuracy';
    // Measured (README): 27 of the 28 corner rows of the test split plain, all 28 slice-aware.
    expect(scores.plain![corner]).toBeCloseTo(27 / 28, 10);
    expect(scores.aware![corner]).toBe(1);
    expect(scores.plain!['y/points/test/accuracy']).toBe(0.9875);
    expect(scores.aware!['y/points/test/accuracy']).toBe(0.97625);
    // The plain model has no slice tasks; the slice-aware one its indicators and predictors.
    expect(Object.keys(scores.plain!).some((k) => k.startsWith('y.'))).toBe(false);
    expect(scores.aware!['y.ind.corner/points/test/f1']).toBeGreaterThan(0.85);
    expect(scores.aware!['y.pred.corner/points/test/accuracy']).toBe(1);
    // The combiner's attention is recorded like gates (the plain model has none) and drawn.
    expect(existsSync(join(dir, 'plain', 'gates.json'))).toBe(false);
    const gates = readJson<{
      evaluations: {
        gates: Record<string, Record<string, { experts: string[]; weights: number[]; rows: number }>>;
      }[];
      final?: {
        gates: Record<string, Record<string, { experts: string[]; weights: number[]; rows: number }>>;
      };
    }>(join(dir, 'aware', 'gates.json'));
    expect(gates.evaluations).toHaveLength(10); // one per epoch
    const attention = gates.final!.gates['y.combiner']!.attention!;
    expect(attention.experts).toEqual(['base', 'corner']);
    expect(attention.rows).toBe(200); // the valid split: 10% of 2,000 rows
    expect(attention.weights[0]! + attention.weights[1]!).toBeCloseTo(1, 6);
    expect((await cli('report', join(dir, 'aware'))).code).toBe(0);
    expect(readFileSync(join(dir, 'aware', 'report.html'), 'utf8')).toContain('id="gates-y.combiner"');
  }, 120_000);

  it('refuses bad slicing functions and slice-aware options, naming the config path', async () => {
    const cases: [string, string, RegExp][] = [
      ['{ field: x, index: 0 }', 'tasks.y.slices.corner', /a test needs a comparison/],
      [
        '{ field: x, gt: 0.6 }',
        'tasks.y.slices.corner',
        /field "x" has 2 values per row: say which with "index"/,
      ],
      ['{ field: size, lt: 3 }', 'tasks.y.slices.corner.field', /has no field "size"/],
      [
        '{ not: { field: x, index: 2, gt: 0 } }',
        'tasks.y.slices.corner.not.index',
        /index 2 is out of range/,
      ],
    ];
    const text = (await import('node:fs'))
      .readFileSync(example, 'utf8')
      .replace('path: data/points.csv', `path: ${join(EXAMPLES, 'data/points.csv')}`);
    for (const [condition, place, message] of cases) {
      const config = writeConfig(text.replace(/corner: \{ all: .*\}\n/, `corner: ${condition}\n`));
      const r = await cli('validate', config);
      expect(r.code, condition).toBe(2);
      expect(r.err, condition).toContain(place);
      expect(r.err, condition).toMatch(message);
    }
    const wrongSlice = writeConfig(text.replace('sliceAware: true', 'sliceAware: { slices: [edge] }'));
    const r = await cli('validate', wrongSlice);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /tasks\.y\.sliceAware\.slices\[0\].*no slice "edge" in tasks\.y\.slices \(slices: corner\)/,
    );
  });
});
