import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MtlError } from '@mtl/core';
import { formatScoreTable } from '@mtl/scoring';
import { MODEL_FILE } from '@mtl/tasks';
import { assignVariables, CHECKPOINT_FILES, loadCheckpoint } from '@mtl/training';
import { readPreprocessing } from '../build/preprocess.js';
import { loadConfig } from '../config/index.js';
import { type Prepared, prepare } from '../prepare.js';
import { checkRunDir, RUN_FILES, refuseEarlierRun, sortedScores } from '../run-dir.js';

/**
 * Rebuilds a finished run's data and model from its resolved config and loads its weights.
 * `activeBackend`: one a browser page made active itself (see prepare's option).
 */
export async function openRun(
  runDir: string,
  backend?: string,
  activeBackend?: string,
): Promise<Prepared & { runDir: string }> {
  const dir = checkRunDir(runDir, 'RUN_DIR');
  const loaded = loadConfig(join(dir, RUN_FILES.config));
  // The scalers and vocabularies the model was trained with, not a refit on today's files.
  const preprocessing = readPreprocessing(join(dir, RUN_FILES.model));
  const prepared = await prepare(loaded, { backend, preprocessing, activeBackend });
  try {
    await prepared.run.load(join(dir, RUN_FILES.model));
  } catch (e) {
    prepared.run.dispose();
    throw e;
  }
  return { ...prepared, runDir: dir };
}

/**
 * The weights `mtl score` reads: the saved model of a finished run; for an interrupted one (no
 * model yet) its best checkpoint, else its last. Relative to the run directory.
 */
export function scoredWeights(runDir: string): string {
  const dir = resolve(runDir);
  if (!existsSync(join(dir, RUN_FILES.config))) checkRunDir(dir, 'RUN_DIR');
  refuseEarlierRun(dir);
  const candidates = [
    join(RUN_FILES.model, MODEL_FILE),
    join(RUN_FILES.checkpoints, CHECKPOINT_FILES.best),
    join(RUN_FILES.checkpoints, CHECKPOINT_FILES.last),
  ];
  const found = candidates.find((f) => existsSync(join(dir, f)));
  if (found === undefined) {
    throw new MtlError(
      'FILE_NOT_FOUND',
      `${dir} is not a finished run and has no checkpoint yet (looked for ${candidates.join(', ')})`,
      { place: 'RUN_DIR' },
    );
  }
  return found;
}

/**
 * `mtl score RUN_DIR [--json]`: every task on every split, from the saved model, or from the best
 * (else last) checkpoint of a run that was interrupted before saving it. Says which through
 * `note` (stderr in the CLI, so `--json` output stays one JSON value).
 */
export async function score(args: {
  runDir: string;
  json?: boolean;
  backend?: string | undefined;
  write?: (line: string) => void;
  note?: (line: string) => void;
}): Promise<Record<string, number>> {
  const write = args.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const note = args.note ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = resolve(args.runDir);
  const weights = scoredWeights(dir);
  // The scalers and vocabularies the model was trained with (an interrupted run saved none yet:
  // they are fitted again on its train splits, which gives the same values on unchanged files).
  const preprocessing = readPreprocessing(join(dir, RUN_FILES.model));
  const prepared = await prepare(loadConfig(join(dir, RUN_FILES.config)), {
    backend: args.backend,
    preprocessing,
  });
  const { run } = prepared;
  try {
    if (weights.startsWith(RUN_FILES.model)) {
      await run.load(join(dir, RUN_FILES.model));
    } else {
      const checkpoint = await loadCheckpoint(join(dir, weights));
      assignVariables(run.trainable.trainableVariables(), checkpoint.weights, join(dir, weights));
    }
    const scores = sortedScores(await run.scoreAll());
    write(args.json ? JSON.stringify(scores, null, 2) : formatScoreTable(scores));
    note(
      weights.startsWith(RUN_FILES.model)
        ? `scored the saved model ${join(dir, weights)}`
        : `scored ${join(dir, weights)}: the run has no saved model (it was interrupted)`,
    );
    return scores;
  } finally {
    run.dispose();
  }
}
