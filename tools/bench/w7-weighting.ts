import { scheduleBatches } from '@mtl/data';
import { createAggregator, Trainer, WEIGHTING_METHOD_NAMES } from '@mtl/training';
import { type Result, timed, type Workload } from './harness.js';
import { w2Setup } from './w2-compute.js';

/** W2's task names (`task0`...`task7`): the aggregator's rows, in the model's loss-part order. */
const TASK_NAMES = Array.from({ length: 8 }, (_, k) => `task${k}`);

/**
 * W7 (issue #15): the cost of each weighting method. W2's data and model with the `mixed`
 * scheduler (every step holds one batch of 256 of each of the 8 tasks: 2,048 examples), Adam 1e-3,
 * one variant per registered method (`createAggregator({ method })` with its default options,
 * given to `new Trainer(config, { aggregator })`). The timed part is `Trainer.fit` over the first
 * 12 steps (quick: 3). A loss-level method is one forward and backward pass per step; a
 * gradient-level one runs one pass per task (8), reads each task's gradient of the shared trunk
 * (about 272k values) back to the host and aggregates the 8 × 272k Jacobian there, so expect it
 * several times slower. The W7 table (`formatW7`) gives each method's ms/step relative to
 * `weightedSum` of the same run.
 */
const VARIANTS: { name: string; config: { method: string; gradientOf?: 'representation' } }[] = [
  ...WEIGHTING_METHOD_NAMES.map((method) => ({ name: method, config: { method } })),
  // Gradients of the shared representation (rep_grad): issue 15's UPGrad target.
  { name: 'upgrad/rep', config: { method: 'upgrad', gradientOf: 'representation' } },
  { name: 'pcgrad/rep', config: { method: 'pcgrad', gradientOf: 'representation' } },
];

export const w7Weighting: Workload = {
  id: 'W7',
  title: 'weighting methods on W2 with the mixed scheduler',
  variants: VARIANTS.map((v, index) => ({ name: v.name, params: { method: index } })),
  async run({ method = 0 }, { quick }) {
    const seed = 2;
    const { loaders, model } = w2Setup(seed);
    const source = scheduleBatches(loaders, 'mixed', { seed });
    const steps = quick ? 3 : 12;
    const aggregator = createAggregator(VARIANTS[method]!.config, { tasks: TASK_NAMES });
    const trainer = new Trainer(
      { epochs: 1, steps, lr: 1e-3, seed, optimizer: { type: 'adam' } },
      { aggregator },
    );
    const result = await timed(() => trainer.fit(model, { train: source }));
    aggregator.dispose?.();
    model.dispose();
    const examples = steps * loaders.length * loaders[0]!.batchSize;
    return {
      ms: result.ms,
      cpuMs: result.cpuMs,
      steps,
      examples,
      flops: 0,
      notes: { level: aggregator.gradientOf === 'representation' ? 'gradient (R)' : aggregator.level },
    };
  },
};

/**
 * The W7 table: per method, wall and CPU ms per step (medians) and their ratios to `weightedSum`
 * of the same run and backend (> 1: slower than the weighted sum).
 */
export function formatW7(results: readonly Result[]): string {
  const lines: string[] = [];
  const backends = [...new Set(results.filter((r) => r.workload === 'W7').map((r) => r.backend))];
  for (const backend of backends) {
    const rows = results.filter((r) => r.workload === 'W7' && r.backend === backend);
    const base = rows.find((r) => r.variant === 'weightedSum');
    lines.push(`W7 on ${backend}: ms/step relative to weightedSum (same run)`);
    lines.push(
      '| method | level | ms/step (wall) | CPU ms/step | wall vs weightedSum | CPU vs weightedSum |',
    );
    lines.push('| --- | --- | --- | --- | --- | --- |');
    for (const r of rows) {
      const wall = base ? (r.msPerStepMedian / base.msPerStepMedian).toFixed(2) : '-';
      const cpu =
        base && base.cpuMsPerStepMedian > 0
          ? (r.cpuMsPerStepMedian / base.cpuMsPerStepMedian).toFixed(2)
          : '-';
      lines.push(
        `| ${r.variant} | ${r.notes.level ?? '?'} | ${r.msPerStepMedian.toFixed(1)} | ${r.cpuMsPerStepMedian.toFixed(1)} | ${wall}× | ${cpu}× |`,
      );
    }
  }
  return lines.join('\n');
}
