// Predicting with a trained run in the page: loaded on Predict only.
import { configFromText, predict } from '@mtl/cli/browser';
import { listNames, MtlError } from '@mtl/core';
import { activateBackend } from './backend.js';
import { type ChosenFile, placeDataFiles } from './files.js';
import './page-io.js';
import { clearPageFiles, pageFileText, putPageFile } from './shims/page-files.js';

/** A file the user chose, as bytes (a model) or text. */
export interface ChosenBytes {
  name: string;
  bytes: Uint8Array;
}

/** Where a run's files go: the layout `mtl train` writes and `mtl predict` reads. */
const RUN_DIR = '/run';
const RUN_LAYOUT: Record<string, string> = {
  'config.resolved.yaml': `${RUN_DIR}/config.resolved.yaml`,
  'model.mtl': `${RUN_DIR}/model/model.mtl`,
  'preprocessing.json': `${RUN_DIR}/model/preprocessing.json`,
};

/**
 * Predicts one task of a run trained by `mtl train` (or in a page) for every row of a CSV, with
 * `mtl predict`'s own code: the run's files (`config.resolved.yaml`, `model.mtl`, and
 * `preprocessing.json` when the run has one) and the data files its config reads are placed where
 * that code reads them. Returns the CSV `mtl predict --output x.csv` writes.
 * @example
 * const csv = await predictInPage({ runFiles, dataFiles, input, task: 'status', backend: 'wasm' });
 */
export async function predictInPage(options: {
  runFiles: readonly ChosenBytes[];
  dataFiles: readonly ChosenFile[];
  input: ChosenFile;
  task?: string;
  backend: string;
}): Promise<{ csv: string; task: string; backend: string; skippedBackends: string[] }> {
  clearPageFiles(RUN_DIR);
  for (const f of options.runFiles) {
    const at = RUN_LAYOUT[f.name];
    if (at === undefined) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `"${f.name}" is not a run file (choose ${listNames(Object.keys(RUN_LAYOUT))} from the run folder and its model/ folder)`,
        { place: 'run files' },
      );
    }
    putPageFile(at, f.bytes);
  }
  for (const name of ['config.resolved.yaml', 'model.mtl']) {
    if (!options.runFiles.some((f) => f.name === name)) {
      throw new MtlError('FILE_NOT_FOUND', `choose the run's ${name}`, { place: 'run files' });
    }
  }
  const configFile = RUN_LAYOUT['config.resolved.yaml']!;
  const loaded = configFromText(pageFileText(configFile)!, configFile);
  placeDataFiles(loaded.config, configFile, options.dataFiles);
  const task = options.task || Object.keys(loaded.config.tasks)[0]!;
  const input = `/input/${options.input.name}`;
  clearPageFiles('/input');
  putPageFile(input, options.input.text);
  const output = '/out/predictions.csv';
  const active = await activateBackend(options.backend);
  await predict({ runDir: RUN_DIR, task, input, output, activeBackend: active.name });
  return { csv: pageFileText(output)!, task, backend: active.name, skippedBackends: active.skipped };
}
