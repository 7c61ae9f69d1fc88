import { join } from 'node:path';
import { formatScoreTable } from '@mtl/scoring';
import { readPreprocessing } from '../build/preprocess.js';
import { loadConfig } from '../config/index.js';
import { type Prepared, prepare } from '../prepare.js';
import { checkRunDir, RUN_FILES, sortedScores } from '../run-dir.js';

/** Rebuilds a finished run's data and model from its resolved config and loads its weights. */
export async function openRun(runDir: string, backend?: string): Promise<Prepared & { runDir: string }> {
  const dir = checkRunDir(runDir, 'RUN_DIR');
  const loaded = loadConfig(join(dir, RUN_FILES.config));
  // The scalers and vocabularies the model was trained with, not a refit on today's files.
  const preprocessing = readPreprocessing(join(dir, RUN_FILES.model));
  const prepared = await prepare(loaded, { backend, preprocessing });
  try {
    await prepared.run.load(join(dir, RUN_FILES.model));
  } catch (e) {
    prepared.run.dispose();
    throw e;
  }
  return { ...prepared, runDir: dir };
}

/** `mtl score RUN_DIR [--json]`: every task on every split, from the saved model. */
export async function score(args: {
  runDir: string;
  json?: boolean;
  backend?: string | undefined;
  write?: (line: string) => void;
}): Promise<Record<string, number>> {
  const write = args.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const opened = await openRun(args.runDir, args.backend);
  try {
    const scores = sortedScores(await opened.run.scoreAll());
    write(args.json ? JSON.stringify(scores, null, 2) : formatScoreTable(scores));
    return scores;
  } finally {
    opened.run.dispose();
  }
}
