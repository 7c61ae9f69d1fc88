import snorkelBasics from '../../mtl/examples/snorkel-basics.yaml?raw';
import vmtlLogistic from '../../mtl/examples/vmtl-logistic.yaml?raw';
import type { CurvePoint, PageRun } from './run.js';

/** The built-in examples: the seed-003 tasks (default) and the VMTL elementary example. */
const EXAMPLES: Record<string, string> = {
  'snorkel-basics (seed-003 tasks)': snorkelBasics,
  'vmtl-logistic (VMTL elementary)': vmtlLogistic,
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const example = $<HTMLSelectElement>('example');
const config = $<HTMLTextAreaElement>('config');
const backend = $<HTMLSelectElement>('backend');
const status = $('status');
const error = $('error');
const trainButton = $<HTMLButtonElement>('train');
const stopButton = $<HTMLButtonElement>('stop');
const resumeButton = $<HTMLButtonElement>('resume');
const downloadScores = $<HTMLButtonElement>('download-scores');
const saveModel = $<HTMLButtonElement>('save-model');
const downloadModel = $<HTMLButtonElement>('download-model');
const dataFiles = $<HTMLInputElement>('data-files');
const downloadReport = $<HTMLButtonElement>('download-report');
const runFiles = $<HTMLInputElement>('run-files');
const predictInput = $<HTMLInputElement>('predict-input');
const predictions = $('predictions');
const downloadPredictions = $<HTMLButtonElement>('download-predictions');

// ?backend=wasm (or webgl, cpu) overrides the choice, e.g. for tests.
const params = new URLSearchParams(location.search);
const fromUrl = params.get('backend');
if (fromUrl !== null) backend.value = fromUrl;
// ?stopAtStep=N clicks Stop once, right after training step N: a stop at a known step however
// fast the machine is (tests), where a click from outside could land after the last step.
const stopAtStep = Number(params.get('stopAtStep') ?? Number.NaN);
for (const name of Object.keys(EXAMPLES)) example.add(new Option(name, name));
config.value = EXAMPLES[example.value]!;
example.addEventListener('change', () => {
  config.value = EXAMPLES[example.value]!;
});

const points: CurvePoint[] = [];
let current: PageRun | undefined;
let lastScores: Record<string, number> = {};

/** The chosen files of an input, as text. */
function chosenTexts(input: HTMLInputElement): Promise<{ name: string; text: string }[]> {
  return Promise.all([...(input.files ?? [])].map(async (f) => ({ name: f.name, text: await f.text() })));
}

/** Which backend runs, and why each better one was passed over. */
function showBackend(name: string, skipped: readonly string[]): void {
  $('backend-used').textContent =
    skipped.length === 0 ? `backend: ${name}` : `backend: ${name} (passed over: ${skipped.join('; ')})`;
}

function showError(e: unknown): void {
  const err = e as { code?: string; place?: string; message?: string };
  error.textContent =
    err.code === undefined ? String(err.message ?? e) : `error [${err.code}]: ${err.message}`;
  status.textContent = 'failed';
}

/** Learning curves: one polyline per metric against the epoch. */
function drawCurves(): void {
  const svg = $('curves');
  const w = 640;
  const h = 220;
  const metrics = [...new Set(points.map((p) => p.metric))];
  const maxEpoch = Math.max(1, ...points.map((p) => p.epoch));
  const maxValue = Math.max(1e-9, ...points.map((p) => p.value));
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  svg.innerHTML = metrics
    .map((m, i) => {
      const xy = points
        .filter((p) => p.metric === m)
        .map(
          (p) =>
            `${((p.epoch / maxEpoch) * (w - 20) + 10).toFixed(1)},${(h - 20 - (p.value / maxValue) * (h - 40)).toFixed(1)}`,
        )
        .join(' ');
      return `<polyline fill="none" stroke="${colours[i % colours.length]}" points="${xy}"/><text x="12" y="${16 + 14 * i}" fill="${colours[i % colours.length]}" font-size="11">${m}</text>`;
    })
    .join('');
}

async function showScores(scores: Record<string, number>): Promise<void> {
  // run.js is loaded by then (it trained): parsing the keys there keeps @mtl/core out of the first paint.
  const { scoreRows } = await import('./run.js');
  const rows = scoreRows(scores).map(({ task, dataset, split, metric, value }) => {
    return `<tr><td>${task}</td><td>${dataset}</td><td>${split}</td><td>${metric}</td><td>${value.toFixed(4)}</td></tr>`;
  });
  $('score-table').innerHTML =
    `<tr><th>task</th><th>dataset</th><th>split</th><th>metric</th><th>value</th></tr>${rows.join('')}`;
  $('scores').textContent = JSON.stringify(scores);
}

async function runTraining(run: PageRun): Promise<void> {
  trainButton.disabled = true;
  resumeButton.disabled = true;
  stopButton.disabled = false;
  status.textContent = 'training';
  try {
    const result = await run.train();
    showBackend(run.backend, run.skippedBackends);
    if (result.stopped) {
      status.textContent = 'stopped';
      resumeButton.disabled = false;
    } else {
      lastScores = result.scores;
      await showScores(result.scores);
      downloadScores.disabled = false;
      downloadReport.disabled = false;
      saveModel.disabled = false;
      downloadModel.disabled = false;
      status.textContent = `done (${run.backend})`;
    }
  } catch (e) {
    showError(e);
  } finally {
    stopButton.disabled = true;
    trainButton.disabled = false;
  }
}

$('validate').addEventListener('click', async () => {
  error.textContent = '';
  try {
    const { configFromText, activateBackend } = await import('./run.js');
    const loaded = configFromText(config.value, 'page.yaml');
    // The backend training would use, made active now: the choice is shown before any training.
    const active = await activateBackend(backend.value);
    showBackend(active.name, active.skipped);
    status.textContent = `valid (${loaded.config.model.kind} model, tasks ${Object.keys(loaded.config.tasks).join(', ')})`;
  } catch (e) {
    showError(e);
  }
});

trainButton.addEventListener('click', async () => {
  error.textContent = '';
  points.length = 0;
  drawCurves();
  $('scores').textContent = '';
  downloadReport.disabled = true;
  current?.dispose();
  const { PageRun } = await import('./run.js');
  const chosen = await chosenTexts(dataFiles);
  current = new PageRun(
    config.value,
    backend.value,
    (p) => {
      points.push(p);
      drawCurves();
    },
    chosen,
  );
  if (Number.isInteger(stopAtStep)) {
    let clicked = false;
    current.onStep = (step) => {
      if (step !== stopAtStep || clicked) return;
      clicked = true;
      stopButton.click();
    };
  }
  await runTraining(current);
});

stopButton.addEventListener('click', () => current?.stop());
resumeButton.addEventListener('click', () => {
  if (current !== undefined) void runTraining(current);
});
/** Offers `text` as the download `name`. */
function offer(name: string, text: string, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
}

downloadScores.addEventListener('click', () => {
  offer('scores.json', JSON.stringify(lastScores, null, 2), 'application/json');
});

let lastPredictions = '';
$('predict').addEventListener('click', async () => {
  error.textContent = '';
  predictions.textContent = '';
  downloadPredictions.disabled = true;
  status.textContent = 'predicting';
  try {
    const input = predictInput.files?.[0];
    if (input === undefined) throw new Error('choose a CSV to predict');
    const { predictInPage } = await import('./predict.js');
    // tfjs names variables page-wide: the page holds one model at a time, so the trained one goes
    // (download or keep it first).
    current?.dispose();
    current = undefined;
    for (const b of [saveModel, downloadModel, resumeButton, downloadReport]) b.disabled = true;
    const result = await predictInPage({
      runFiles: await Promise.all(
        [...(runFiles.files ?? [])].map(async (f) => ({
          name: f.name,
          bytes: new Uint8Array(await f.arrayBuffer()),
        })),
      ),
      dataFiles: await chosenTexts(dataFiles),
      input: { name: input.name, text: await input.text() },
      task: $<HTMLInputElement>('predict-task').value.trim(),
      backend: backend.value,
    });
    showBackend(result.backend, result.skippedBackends);
    lastPredictions = result.csv;
    predictions.textContent = result.csv;
    downloadPredictions.disabled = false;
    status.textContent = `predicted ${result.task} (${result.backend})`;
  } catch (e) {
    showError(e);
  }
});
downloadReport.addEventListener('click', async () => {
  try {
    if (current === undefined) throw new Error('train a model first');
    const { reportHtml } = await import('./report.js');
    offer('report.html', await reportHtml(current), 'text/html');
  } catch (e) {
    showError(e);
  }
});
downloadPredictions.addEventListener('click', () => offer('predictions.csv', lastPredictions, 'text/csv'));
saveModel.addEventListener('click', async () => {
  try {
    await current?.saveModel('indexeddb://mtl-page-model');
    status.textContent = 'model kept in IndexedDB as mtl-page-model';
  } catch (e) {
    showError(e);
  }
});
downloadModel.addEventListener('click', async () => {
  try {
    await current?.saveModel('downloads://model');
    // A run that scales fields or labels: mtl predict needs the fitted scalers beside model.mtl.
    const preprocessing = current?.preprocessingText();
    if (preprocessing !== undefined) offer('preprocessing.json', preprocessing, 'application/json');
  } catch (e) {
    showError(e);
  }
});
