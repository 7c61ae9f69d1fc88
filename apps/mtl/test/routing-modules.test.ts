import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, EXAMPLES, readJson, tempDir, writeConfig } from './helpers.js';

// The mmoe example, made tiny: the same config shape the benchmark runs.
const example = readFileSync(join(EXAMPLES, 'mmoe-synthetic.yaml'), 'utf8');
const tiny = ['--set', 'data.synthetic.n=200', '--set', 'data.synthetic.dim=8', '--set', 'training.epochs=2'];

type GateMeans = Record<string, Record<string, { experts: string[]; weights: number[]; rows: number }>>;

interface Gates {
  evaluations: {
    step: number;
    split: string;
    gates: GateMeans;
  }[];
  final?: { step: number; split: string; restoredBest: boolean; gates: GateMeans };
}

describe('routing modules from the config', () => {
  it('trains the mmoe example (tasks read moe.y1 / moe.y2), writes gates.json and draws its heatmaps', async () => {
    const runDir = join(tempDir(), 'run');
    const r = await cli('train', join(EXAMPLES, 'mmoe-synthetic.yaml'), ...tiny, '--out', runDir, '--quiet');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const gates = readJson<Gates>(join(runDir, 'gates.json'));
    expect(gates.evaluations.map((e) => e.split)).toEqual(['valid', 'valid']);
    const last = gates.evaluations[1]!;
    expect(Object.keys(last.gates.moe!)).toEqual(['y1', 'y2']);
    for (const g of Object.values(last.gates.moe!)) {
      expect(g.experts).toEqual(['expert_0', 'expert_1', 'expert_2', 'expert_3']);
      expect(g.rows).toBe(20); // the valid split: 10% of 200
      expect(g.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    const report = await cli('report', runDir);
    expect(report.code).toBe(0);
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(html).toContain('id="gates-moe"');
    expect(html).toContain('id="gates-moe-evolution"');
  });

  it("writes the final model's gates: the best epoch's when its weights were restored, not the last evaluation's", async () => {
    const runDir = join(tempDir(), 'run');
    // A high rate: the validation loss is best at an early evaluation, then worse.
    const set = ['--set', 'training.epochs=6', '--set', 'training.lr=0.1'];
    const r = await cli(
      'train',
      join(EXAMPLES, 'mmoe-synthetic.yaml'),
      ...tiny,
      ...set,
      '--out',
      runDir,
      '--quiet',
    );
    expect(r.code).toBe(0);
    const valid = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>)
      .filter((m) => m['model/all/valid/loss'] !== undefined);
    const best = valid.reduce((a, b) => (b['model/all/valid/loss']! < a['model/all/valid/loss']! ? b : a));
    const gates = readJson<Gates>(join(runDir, 'gates.json'));
    const last = gates.evaluations.at(-1)!;
    expect(best.step).toBeLessThan(last.step);
    expect(gates.final).toMatchObject({ step: best.step, split: 'valid', restoredBest: true });
    // The restored weights are the best evaluation's: the same mean gates on the same rows.
    const atBest = gates.evaluations.find((e) => e.step === best.step)!;
    for (const task of ['y1', 'y2']) {
      const final = gates.final!.gates.moe![task]!;
      expect(final.rows).toBe(20);
      final.weights.forEach((w, e) => {
        expect(w).toBeCloseTo(atBest.gates.moe![task]!.weights[e]!, 6);
      });
      const drift = final.weights.map((w, e) => Math.abs(w - last.gates.moe![task]!.weights[e]!));
      expect(Math.max(...drift)).toBeGreaterThan(1e-3);
    }
    expect((await cli('report', runDir)).code).toBe(0);
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(html).toContain(`moe: gate weights (final model, step ${best.step}: the best epoch restored)`);
  });

  it('refuses a task reading an unknown task, another task, or a module without its gate', async () => {
    const cases: [string, string, RegExp][] = [
      [
        example.replace('ops: [moe.y2, y2_tower]', 'ops: [moe.y3, y2_tower]'),
        'tasks.y2.ops[0]',
        /no task y3/,
      ],
      [
        example.replace('ops: [moe.y2, y2_tower]', 'ops: [moe.y1, y2_tower]'),
        'tasks.y2.ops[0]',
        /task y2 reads the output of task y1/,
      ],
      [
        example.replace('tasks: [y1, y2]', 'tasks: [y1]'),
        'tasks.y2.ops[0]',
        /module "moe" has no output for task y2/,
      ],
      [
        example.replace('tasks: [y1, y2]', 'tasks: [y1, y2, y9]'),
        'modules.moe.tasks',
        /y9, which is no task/,
      ],
      [
        example.replace('ops: [moe.y2, y2_tower]', 'ops: [y2_tower, moe.y2]'),
        'tasks.y2.ops[1]',
        /a head must follow it/,
      ],
    ];
    for (const [config, place, message] of cases) {
      const r = await cli('validate', writeConfig(config), ...tiny);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(place);
      expect(r.err).toMatch(message);
    }
  });
});
