import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import type { Chart } from './charts.js';
import { heatmapSpec } from './heatmap.js';

/**
 * `gates.json` of a run whose model routes with gates (mmoe, cgc, ple, dselect_k): one entry per
 * evaluation, each with the mean gate weight of every expert per module and gate (task).
 */
export const gatesSchema = z.object({
  evaluations: z.array(
    z.object({
      step: z.number().int().min(0),
      split: z.string(),
      gates: z.record(
        z.string(),
        z.record(
          z.string(),
          z.object({ experts: z.array(z.string()), weights: z.array(z.number()), rows: z.number() }),
        ),
      ),
    }),
  ),
  /** The gates of the model as saved (the best epoch's when restored); older runs have none. */
  final: z
    .object({
      step: z.number().int().min(0),
      split: z.string(),
      restoredBest: z.boolean(),
      gates: z.record(
        z.string(),
        z.record(
          z.string(),
          z.object({ experts: z.array(z.string()), weights: z.array(z.number()), rows: z.number() }),
        ),
      ),
    })
    .optional(),
});

/** What {@link gatesSchema} reads. */
export type GatesFile = z.infer<typeof gatesSchema>;

const CELL = 44;

/**
 * Heatmaps of the gate weights of each gated module: the final model's (the best epoch's when its
 * weights were restored; else the latest evaluation's), expert × gate, each row a task's mean gate
 * over the validation split, summing to 1; and the evolution (one small
 * heatmap per evaluation, expert × gate, faceted by step).
 * @example
 * gateCharts({ evaluations: [{ step: 10, split: 'valid', gates: { moe: { y1: { experts: ['expert_0'], weights: [1], rows: 5 } } } }] }).length; // 2
 */
export function gateCharts(file: GatesFile): Chart[] {
  // The saved model's gates when recorded (the best epoch's, not the last evaluation's).
  const last = file.final ?? file.evaluations.at(-1);
  if (last === undefined) return [];
  const which =
    file.final === undefined
      ? `step ${last.step}`
      : `final model, step ${last.step}${file.final.restoredBest ? ': the best epoch restored' : ''}`;
  const charts: Chart[] = [];
  for (const [module, gates] of Object.entries(last.gates)) {
    const gateNames = Object.keys(gates);
    const experts = [...new Set(gateNames.flatMap((g) => gates[g]!.experts))];
    const latest = gateNames.flatMap((gate) =>
      gates[gate]!.experts.map((expert, e) => ({ gate, expert, value: gates[gate]!.weights[e]! })),
    );
    const width = Math.max(CELL * 2, Math.min(720, CELL * experts.length));
    const height = Math.max(CELL, Math.min(480, CELL * gateNames.length));
    const color = {
      field: 'value',
      type: 'quantitative' as const,
      title: 'gate weight',
      scale: { domain: [0, 1], scheme: 'blues' },
    };
    const spec = heatmapSpec({
      title: `${module}: gate weights (${which})`,
      subtitle: `mean over the ${last.split} split; a row per gate (task), summing to 1`,
      values: latest,
      width,
      height,
      x: { field: 'expert', sort: experts, title: 'expert' },
      y: { field: 'gate', sort: gateNames, title: 'gate (task)' },
      color: { field: color.field, title: color.title, domain: [0, 1], scheme: 'blues' },
      tooltip: [
        { field: 'gate', type: 'nominal', title: 'gate' },
        { field: 'expert', type: 'nominal' },
        { field: 'value', type: 'quantitative', format: '.4f', title: 'weight' },
      ],
      layer: 'weights',
      labelTest: 'datum.value > 0.55',
    });
    charts.push({
      id: `gates-${module}`,
      section: 'gates',
      title: `${module}: gate weights`,
      rows: latest.length,
      spec,
    });

    // The evolution: every evaluation (at most 12, evenly spaced, always the last), small multiples.
    const evals = file.evaluations.filter((ev) => ev.gates[module] !== undefined);
    const keep =
      evals.length <= 12
        ? evals
        : Array.from({ length: 12 }, (_, i) => evals[Math.round((i * (evals.length - 1)) / 11)]!);
    const history = keep.flatMap((ev) =>
      Object.entries(ev.gates[module]!).flatMap(([gate, g]) =>
        g.experts.map((expert, e) => ({ step: ev.step, gate, expert, value: g.weights[e]! })),
      ),
    );
    charts.push({
      id: `gates-${module}-evolution`,
      section: 'gates',
      title: `${module}: gate weights over training`,
      rows: history.length,
      spec: {
        title: {
          text: `${module}: gate weights over training`,
          subtitle: 'one heatmap per evaluation (step)',
        },
        data: { values: history },
        facet: { field: 'step', type: 'ordinal', title: 'step' },
        columns: 6,
        spec: {
          width: Math.max(60, Math.min(200, 16 * experts.length)),
          height: Math.max(30, Math.min(160, 16 * gateNames.length)),
          mark: { type: 'rect' },
          encoding: {
            x: {
              field: 'expert',
              type: 'nominal',
              sort: experts,
              title: null,
              axis: { labels: experts.length <= 8 },
            },
            y: { field: 'gate', type: 'nominal', sort: gateNames, title: null },
            color,
            tooltip: [
              { field: 'step', type: 'quantitative' },
              { field: 'gate', type: 'nominal' },
              { field: 'expert', type: 'nominal' },
              { field: 'value', type: 'quantitative', format: '.4f' },
            ],
          },
        },
      } as TopLevelSpec,
    });
  }
  return charts;
}
