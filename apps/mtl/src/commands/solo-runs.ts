import { join } from 'node:path';
import { parseScoreKey } from '@mtl/scoring';
import type { TrainArgs, TrainResult } from './train.js';

/**
 * One solo run per task (`OUT/solo-<task>`), with the same arguments as the multitask run; keeps
 * each run's own task scores. Shared by `mtl compare` for multitask and VAE configs.
 */
export async function trainSoloRuns(
  train: (args: TrainArgs) => Promise<TrainResult>,
  common: TrainArgs,
  tasks: readonly string[],
  outDir: string,
  say: (line: string) => void,
): Promise<{ solo: Record<string, number>; soloRuns: Record<string, string> }> {
  const solo: Record<string, number> = {};
  const soloRuns: Record<string, string> = {};
  for (const task of tasks) {
    say(`solo run: ${task} ...`);
    const r = await train({ ...common, onlyTasks: [task], out: join(outDir, `solo-${task}`) });
    for (const [k, v] of Object.entries(r.scores)) if (parseScoreKey(k).task === task) solo[k] = v;
    soloRuns[task] = r.runDir;
  }
  return { solo, soloRuns };
}

/** The split a comparison reads: test, else valid, else train, else any split the scores have. */
export function comparedSplit(scores: Record<string, number>): string {
  const splits = new Set(Object.keys(scores).map((k) => parseScoreKey(k).split));
  return ['test', 'valid', 'train'].find((s) => splits.has(s)) ?? [...splits][0]!;
}
