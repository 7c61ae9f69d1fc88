import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { nativeStatus } from '@mtl/core';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../mtl/src/main.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const WEB = new URL('..', import.meta.url).pathname;
const EXAMPLE = new URL('../../mtl/examples/snorkel-basics.yaml', import.meta.url).pathname;
const CSV_EXAMPLE = new URL('../../mtl/examples/csv-tasks.yaml', import.meta.url).pathname;
const CSV_DATA = new URL('../../mtl/examples/data/', import.meta.url).pathname;
const TFJS = new URL('../../../node_modules/@tensorflow/tfjs/dist/tf.min.js', import.meta.url).pathname;
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
};

async function cli(...argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await run(argv, { out: () => {}, err: (l) => err.push(l) });
  return { code, err: err.join('\n') };
}

/** Serves `dist`, and `/bare/*` from a folder of its own (the exported model, plain tfjs). */
function serve(roots: Record<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const prefix = Object.keys(roots).find((p) => path.startsWith(p))!;
    const rel = normalize(path.slice(prefix.length)).replace(/^(\.\.[/\\])+/, '');
    const file = join(roots[prefix]!, rel === '' || rel === '.' ? 'index.html' : rel);
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe.skipIf(!existsSync(CHROMIUM))('the page in headless Chromium', () => {
  let context: BrowserContext;
  let server: Server;
  let origin = '';
  let work = '';
  let nodeScores: Record<string, number> = {};
  let csvScores: Record<string, number> = {};
  let jsonlScores: Record<string, number> = {};
  // The csv example with its yields source read from a JSON Lines file instead.
  let jsonlConfig = '';
  let badNode = { code: 0, err: '' };
  let bareNode: number[][][] = [];
  // The csv example, 2 epochs instead of 30 (the page is compared with a Node run of the same text).
  let csvConfig = '';
  const SENSORS_HEAD = readFileSync(join(CSV_DATA, 'sensors.csv'), 'utf8')
    .split('\n')
    .slice(0, 41)
    .join('\n');
  const BAD_YIELDS = readFileSync(join(CSV_DATA, 'yields.csv'), 'utf8')
    .split('\n')
    .map((line, i) => (i === 5 ? line.replace(/^[^,]*/, 'n/a') : line))
    .join('\n');
  const POINTS = 'circle_data_0,circle_data_1\n0.05,-0.02\n0.95,0.97\n-0.9,0.92\n0.3,0.1\n-0.4,-0.71\n';

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mtl-web-'));
    // Build once; the page is what `npm run build -w apps/web` writes. It builds while Node trains.
    const { build } = await import('vite');
    const built = build({
      root: WEB,
      configFile: join(WEB, 'vite.config.ts'),
      logLevel: 'error',
      build: { outDir: join(work, 'dist') },
    });
    // The Node run of the default example on wasm, without the native kernels (a page has none:
    // vitest.config.ts sets MTL_NATIVE=0 before the backend is chosen).
    expect(nativeStatus().active).toBe(false);
    const trained = await cli('train', EXAMPLE, '--out', join(work, 'run'), '--quiet', '--backend', 'wasm');
    expect(trained.err).toBe('');
    nodeScores = JSON.parse(readFileSync(join(work, 'run', 'scores.json'), 'utf8'));
    // The csv example from files next to its config, and mtl predict's output on a CSV.
    mkdirSync(join(work, 'csv', 'data'), { recursive: true });
    for (const f of ['sensors.csv', 'yields.csv'])
      copyFileSync(join(CSV_DATA, f), join(work, 'csv', 'data', f));
    // Scaled yields: the page's model download must then carry the fitted scalers too.
    csvConfig = readFileSync(CSV_EXAMPLE, 'utf8')
      .replace('epochs: 30', 'epochs: 2')
      .replace(
        '      yield: { column: yield, kind: regression }\n',
        '      yield: { column: yield, kind: regression }\n    scale: { readings: standard, yield: standard }\n',
      );
    expect(csvConfig).toContain('epochs: 2');
    expect(csvConfig).toContain('scale: { readings: standard, yield: standard }');
    writeFileSync(join(work, 'csv', 'csv.yaml'), csvConfig);
    expect(
      (
        await cli(
          'train',
          join(work, 'csv', 'csv.yaml'),
          '--out',
          join(work, 'csvrun'),
          '--quiet',
          '--backend',
          'wasm',
        )
      ).err,
    ).toBe('');
    csvScores = JSON.parse(readFileSync(join(work, 'csvrun', 'scores.json'), 'utf8'));
    // The same with yields.jsonl (one object per row, the CSV's columns as keys).
    const [header, ...lines] = readFileSync(join(CSV_DATA, 'yields.csv'), 'utf8').trim().split('\n');
    const keys = header!.split(',');
    const objects = lines.map((l) =>
      JSON.stringify(Object.fromEntries(l.split(',').map((v, i) => [keys[i], Number(v)]))),
    );
    writeFileSync(join(work, 'csv', 'data', 'yields.jsonl'), `${objects.join('\n')}\n`);
    jsonlConfig = csvConfig.replace(
      '  yields:\n    kind: csv\n    path: data/yields.csv',
      '  yields:\n    kind: jsonl\n    path: data/yields.jsonl',
    );
    expect(jsonlConfig).toContain('kind: jsonl');
    writeFileSync(join(work, 'csv', 'jsonl.yaml'), jsonlConfig);
    const jsonlRun = await cli(
      'train',
      join(work, 'csv', 'jsonl.yaml'),
      '--out',
      join(work, 'jsonlrun'),
      '--quiet',
      '--backend',
      'wasm',
    );
    expect(jsonlRun.err).toBe('');
    jsonlScores = JSON.parse(readFileSync(join(work, 'jsonlrun', 'scores.json'), 'utf8'));
    // A bad cell in yields.csv: what mtl train says (the page must say the same).
    writeFileSync(join(work, 'csv', 'data', 'yields-bad.csv'), BAD_YIELDS);
    writeFileSync(join(work, 'csv', 'bad.yaml'), csvConfig.replace('data/yields.csv', 'data/yields-bad.csv'));
    badNode = await cli(
      'train',
      join(work, 'csv', 'bad.yaml'),
      '--out',
      join(work, 'badrun'),
      '--quiet',
      '--backend',
      'wasm',
    );
    writeFileSync(join(work, 'sensors-head.csv'), SENSORS_HEAD);
    expect(
      (
        await cli(
          'predict',
          join(work, 'csvrun'),
          '--task',
          'status',
          '--input',
          join(work, 'sensors-head.csv'),
          '--output',
          join(work, 'csv-node.csv'),
          '--backend',
          'wasm',
        )
      ).err,
    ).toBe('');
    writeFileSync(join(work, 'points.csv'), POINTS);
    expect(
      (await cli('export', join(work, 'run'), '--format', 'tfjs-layers', '--out', join(work, 'bare'))).err,
    ).toBe('');
    writeFileSync(join(work, 'bare', 'tf.min.js'), readFileSync(TFJS));
    writeFileSync(
      join(work, 'bare', 'index.html'),
      `<!doctype html><link rel="icon" href="data:,"><script src="tf.min.js"></script><script>
// './model.json', not 'model.json': tfjs resolves the weight files against the text before the last '/'.
tf.loadLayersModel('./model.json').then((m) => {
  const x = tf.tensor2d([[0.05, -0.02], [0.95, 0.97], [-0.9, 0.92]]);
  document.body.dataset.out = JSON.stringify(m.predict([x, x]).map((t) => t.arraySync()));
}, (e) => { document.body.dataset.out = 'error: ' + e.message; });
</script>`,
    );
    // The export's predictions in Node, for the bare page's.
    const tf = await import('@tensorflow/tfjs');
    const { readLayersModelFiles } = await import('../../mtl/src/build/layers-files.js');
    const model = await tf.loadLayersModel(
      tf.io.fromMemory(readLayersModelFiles(join(work, 'bare', 'model.json'))),
    );
    const x = tf.tensor2d([
      [0.05, -0.02],
      [0.95, 0.97],
      [-0.9, 0.92],
    ]);
    const outs = model.predict([x, x]) as import('@tensorflow/tfjs').Tensor[];
    bareNode = outs.map((t) => t.arraySync() as number[][]);
    tf.dispose([x, ...outs]);
    model.dispose();
    await built;
    server = await serve({ '/bare/': join(work, 'bare'), '/': join(work, 'dist') });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      serviceWorkers: 'block',
      acceptDownloads: true,
    });
  });

  afterAll(async () => {
    await context?.close();
    await new Promise((r) => server?.close(r));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A page with every request and console message recorded. */
  async function open(path: string) {
    const page = await context.newPage();
    const foreign: string[] = [];
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('request', (r) => {
      requests.push(r.url());
      if (!r.url().startsWith(`${origin}/`) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) {
        foreign.push(r.url());
      }
    });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    await page.goto(`${origin}${path}`);
    return { page, foreign, errors, requests };
  }

  it.concurrent("trains the default example on wasm to the Node run's scores (accuracies bit for bit), offline", async () => {
    const { page, foreign, errors } = await open('/?backend=wasm');
    await page.click('[data-testid=train]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=scores]')?.textContent !== '',
      undefined,
      {
        timeout: 110_000,
      },
    );
    expect(await page.textContent('[data-testid=error]')).toBe('');
    expect(await page.textContent('[data-testid=status]')).toBe('done (wasm)');
    const scores = JSON.parse((await page.textContent('[data-testid=scores]'))!) as Record<string, number>;
    expect(scores['circle_task/circleDataset/test/accuracy']).toBeGreaterThanOrEqual(0.85);
    expect(scores['square_task/squareDataset/test/accuracy']).toBeGreaterThanOrEqual(0.85);
    // The same training: every accuracy bit for bit. A loss is a float64 sum of host-side logs,
    // where Chromium's V8 and Node 20's may differ in the last bit (measured: 2 of 15 keys, 1 ulp).
    expect(Object.keys(scores)).toEqual(Object.keys(nodeScores));
    for (const [key, value] of Object.entries(nodeScores)) {
      if (key.endsWith('/accuracy')) expect(scores[key], key).toBe(value);
      else
        expect(Math.abs(scores[key]! - value), key).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(value));
    }
    // The report: mtl report's page for the page's run, the same charts as for the Node run.
    const [reportDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=download-report]'),
    ]);
    expect(reportDownload.suggestedFilename()).toBe('report.html');
    await reportDownload.saveAs(join(work, 'page-report.html'));
    expect((await cli('report', join(work, 'run'))).err).toBe('');
    const pageReport = readFileSync(join(work, 'page-report.html'), 'utf8');
    const nodeReport = readFileSync(join(work, 'run', 'report.html'), 'utf8');
    const charts = (html: string) => html.match(/<div class="chart" [^>]*>/g) ?? [];
    expect(charts(pageReport).length).toBeGreaterThanOrEqual(3);
    expect(charts(pageReport)).toEqual(charts(nodeReport));
    const libraries = (html: string) => html.match(/<script data-lib=[^>]*>/g) ?? [];
    expect(libraries(pageReport)).toEqual([
      '<script data-lib="vega">',
      '<script data-lib="vega-lite">',
      '<script data-lib="vega-embed">',
    ]);
    expect(pageReport.length - nodeReport.length).toBeLessThan(2000);
    // The accuracy table: every cell (value, formatted number, best marks) as for the Node run.
    const accuracies = (html: string) =>
      /<table class="scores pivot" data-metric="accuracy">[\s\S]*?<\/table>/
        .exec(html)?.[0]
        .replace(/ data-run="[^"]*"/g, '');
    expect(accuracies(pageReport)).toContain('data-key="circle_task/circleDataset/test/accuracy"');
    expect(accuracies(pageReport)).toBe(accuracies(nodeReport));
    // The page's model in Node: mtl predict on a run folder holding the downloaded model.mtl.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=download-model]'),
    ]);
    expect(download.suggestedFilename()).toBe('model.mtl');
    mkdirSync(join(work, 'pagerun', 'model'), { recursive: true });
    await download.saveAs(join(work, 'pagerun', 'model', 'model.mtl'));
    copyFileSync(join(work, 'run', 'config.resolved.yaml'), join(work, 'pagerun', 'config.resolved.yaml'));
    const predicted = await cli(
      'predict',
      join(work, 'pagerun'),
      '--task',
      'circle_task',
      '--input',
      join(work, 'points.csv'),
      '--output',
      join(work, 'page-model-node.csv'),
      '--backend',
      'wasm',
    );
    expect(predicted.err).toBe('');
    // ... and the same model and points in the page.
    await page.setInputFiles('[data-testid=run-files]', [
      join(work, 'pagerun', 'config.resolved.yaml'),
      join(work, 'pagerun', 'model', 'model.mtl'),
    ]);
    await page.setInputFiles('[data-testid=predict-input]', join(work, 'points.csv'));
    await page.fill('[data-testid=predict-task]', 'circle_task');
    await page.click('[data-testid=predict]');
    const inPage = await waitText(page, 'predictions', 60_000);
    expect(inPage.split('\n')[0]).toBe('row,pred,prob_0,prob_1');
    expect(inPage).toBe(readFileSync(join(work, 'page-model-node.csv'), 'utf8'));
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it.concurrent('stops after a step and resumes from its checkpoint to the same accuracies', async () => {
    // The page clicks Stop itself after step 3: a click from here could land after the last step.
    const { page, foreign, errors } = await open('/?backend=wasm&stopAtStep=3');
    await page.click('[data-testid=train]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=status]')?.textContent === 'stopped',
      undefined,
      {
        timeout: 110_000,
      },
    );
    expect(await page.textContent('[data-testid=scores]')).toBe('');
    await page.click('[data-testid=resume]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=scores]')?.textContent !== '',
      undefined,
      {
        timeout: 110_000,
      },
    );
    expect(await page.textContent('[data-testid=error]')).toBe('');
    const scores = JSON.parse((await page.textContent('[data-testid=scores]'))!) as Record<string, number>;
    expect(Object.keys(scores)).toEqual(Object.keys(nodeScores));
    for (const [key, value] of Object.entries(nodeScores)) {
      if (key.endsWith('/accuracy')) expect(scores[key], key).toBe(value);
    }
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it.concurrent('the exported LayersModel loads in a bare page with plain tfjs and predicts as Node does', async () => {
    const { page, foreign, errors } = await open('/bare/');
    await page.waitForFunction(() => document.body.dataset.out !== undefined, undefined, { timeout: 30_000 });
    const out = (await page.getAttribute('body', 'data-out'))!;
    expect(out).not.toMatch(/^error/);
    const inPage = JSON.parse(out) as number[][][];
    let worst = 0;
    expect(bareNode).toHaveLength(2);
    bareNode.forEach((rows, t) => {
      rows.forEach((row, i) => {
        row.forEach((v, c) => {
          worst = Math.max(worst, Math.abs(v - inPage[t]![i]![c]!));
        });
      });
    });
    expect(worst).toBeLessThan(1e-5);
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  /** Waits until `[data-testid=id]` has text (or the error element has), then returns it. */
  async function waitText(
    page: import('playwright-core').Page,
    id: string,
    timeout = 110_000,
  ): Promise<string> {
    await page.waitForFunction(
      (testid) =>
        document.querySelector(`[data-testid=${testid}]`)?.textContent !== '' ||
        document.querySelector('[data-testid=error]')?.textContent !== '',
      id,
      { timeout },
    );
    expect(await page.textContent('[data-testid=error]')).toBe('');
    return (await page.textContent(`[data-testid=${id}]`))!;
  }

  const csvFile = (name: string, text: string) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });
  const CSV_FILES = ['sensors.csv', 'yields.csv'].map((f) =>
    csvFile(f, readFileSync(join(CSV_DATA, f), 'utf8')),
  );

  /** A csv-example page run's scores against Node's: accuracies bit for bit, the rest within 1e-12. */
  function expectNodeScores(scores: Record<string, number>, node: Record<string, number>): void {
    expect(Object.keys(scores)).toEqual(Object.keys(node));
    for (const [key, value] of Object.entries(node)) {
      if (key.endsWith('/accuracy')) expect(scores[key], key).toBe(value);
      else
        expect(Math.abs(scores[key]! - value), key).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(value)));
    }
  }

  /** Clicks `button` and returns the error shown (training or predicting stops there). */
  async function errorAfter(page: import('playwright-core').Page, button: string): Promise<string> {
    await page.click(`[data-testid=${button}]`);
    await page.waitForFunction(() => document.querySelector('[data-testid=error]')?.textContent !== '');
    return (await page.textContent('[data-testid=error]'))!;
  }

  it.concurrent("trains a csv config on the chosen files to the Node run's scores; names a missing, extra or bad file", async () => {
    const { page, foreign, errors } = await open('/?backend=wasm');
    await page.fill('[data-testid=config]', csvConfig);
    // Only one of the two files: the other is named, with the config path that reads it.
    await page.setInputFiles('[data-testid=data-files]', [CSV_FILES[0]!]);
    expect(await errorAfter(page, 'train')).toBe(
      'error [FILE_NOT_FOUND]: data.yields.path: the config reads "yields.csv", which is not among the chosen data files (chosen: sensors.csv)',
    );
    await page.setInputFiles('[data-testid=data-files]', [...CSV_FILES, csvFile('extra.csv', 'a\n1\n')]);
    expect(await errorAfter(page, 'train')).toBe(
      'error [INVALID_ARGUMENT]: data files: "extra.csv" is not a data file of this config (it reads: sensors.csv, yields.csv)',
    );
    // A bad cell: the same check and message as mtl train's (file, line, column).
    await page.setInputFiles('[data-testid=data-files]', [CSV_FILES[0]!, csvFile('yields.csv', BAD_YIELDS)]);
    const message = await errorAfter(page, 'train');
    const node = badNode;
    expect(node.code).toBe(2);
    expect(message).toBe(
      'error [CSV_PARSE]: data.yields /data/yields.csv:6:x1: field "readings": cell "n/a" in column "x1" is not a number',
    );
    expect(node.err).toContain(
      `data.yields ${join(work, 'csv', 'data', 'yields-bad.csv')}:6:x1: field "readings": cell "n/a" in column "x1" is not a number`,
    );
    await page.setInputFiles('[data-testid=data-files]', CSV_FILES);
    await page.click('[data-testid=train]');
    const scores = JSON.parse(await waitText(page, 'scores')) as Record<string, number>;
    expectNodeScores(scores, csvScores);
    expect(scores['status/sensors/test/accuracy']).toBeGreaterThan(0.5);
    // The model download brings the scalers mtl predict needs: the Node run's preprocessing.json.
    const named = (name: string) => ({
      predicate: (d: { suggestedFilename(): string }) => d.suggestedFilename() === name,
    });
    const [, preprocessing] = await Promise.all([
      page.waitForEvent('download', named('model.mtl')),
      page.waitForEvent('download', named('preprocessing.json')),
      page.click('[data-testid=download-model]'),
    ]);
    await preprocessing.saveAs(join(work, 'page-preprocessing.json'));
    expect(readFileSync(join(work, 'page-preprocessing.json'), 'utf8')).toBe(
      readFileSync(join(work, 'csvrun', 'model', 'preprocessing.json'), 'utf8'),
    );
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it.concurrent("trains a config with a jsonl source on the chosen files to the Node run's scores", async () => {
    const { page, foreign, errors } = await open('/?backend=wasm');
    await page.fill('[data-testid=config]', jsonlConfig);
    await page.setInputFiles('[data-testid=data-files]', [
      CSV_FILES[0]!,
      {
        name: 'yields.jsonl',
        mimeType: 'application/jsonl',
        buffer: readFileSync(join(work, 'csv', 'data', 'yields.jsonl')),
      },
    ]);
    await page.click('[data-testid=train]');
    const scores = JSON.parse(await waitText(page, 'scores')) as Record<string, number>;
    expectNodeScores(scores, jsonlScores);
    expect(scores['yield/yields/test/r2']).toBeGreaterThan(0);
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it.concurrent('a model trained by mtl train predicts in the page as mtl predict does, byte for byte', async () => {
    const { page, foreign, errors } = await open('/?backend=wasm');
    const run = join(work, 'csvrun');
    await page.setInputFiles('[data-testid=run-files]', [
      join(run, 'config.resolved.yaml'),
      join(run, 'model', 'model.mtl'),
    ]);
    await page.setInputFiles('[data-testid=data-files]', CSV_FILES);
    await page.setInputFiles('[data-testid=predict-input]', join(work, 'sensors-head.csv'));
    await page.fill('[data-testid=predict-task]', 'status');
    await page.click('[data-testid=predict]');
    const csv = await waitText(page, 'predictions', 60_000);
    const expected = readFileSync(join(work, 'csv-node.csv'), 'utf8');
    expect(expected.split('\n')[0]).toBe('row,pred,prob_0,prob_1');
    expect(expected.trim().split('\n')).toHaveLength(41);
    expect(csv).toBe(expected);
    expect(await page.textContent('[data-testid=status]')).toBe('predicted status (wasm)');
    // Without its data files the run cannot be rebuilt: said before anything loads.
    await page.setInputFiles('[data-testid=data-files]', []);
    expect(await errorAfter(page, 'predict')).toMatch(
      /^error \[FILE_NOT_FOUND\]: data.sensors.path: the config reads "sensors.csv"/,
    );
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it.concurrent('auto picks webgpu > webgl > wasm > cpu: without a GPU adapter it passes webgpu over and says why', async () => {
    const { page, foreign, errors, requests } = await open('/');
    expect(await page.inputValue('[data-testid=backend]')).toBe('auto');
    // Validate makes the backend training would use active and shows it (no training needed).
    await page.click('[data-testid=validate]');
    await waitText(page, 'backend-used', 60_000);
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      return gpu === undefined ? 'none' : (await gpu.requestAdapter()) === null ? 'null' : 'yes';
    });
    const used = (await page.textContent('[data-testid=backend-used]'))!;
    const name = /^backend: (\w+)/.exec(used)?.[1];
    expect(await page.textContent('[data-testid=status]')).toBe(
      'valid (multitask model, tasks circle_task, square_task)',
    );
    if (adapter === 'yes') expect(name).toBe('webgpu');
    else {
      expect(['webgl', 'wasm', 'cpu']).toContain(name);
      expect(used).toContain(
        `(passed over: webgpu: ${adapter === 'none' ? 'this browser has no WebGPU' : 'no GPU adapter'}`,
      );
      // tfjs-backend-webgpu is a chunk of its own, fetched only where WebGPU can run.
      const manifest = JSON.parse(
        readFileSync(join(work, 'dist', '.vite', 'manifest.json'), 'utf8'),
      ) as Record<string, { file: string }>;
      const chunk = Object.entries(manifest).find(([key]) => key.includes('tfjs-backend-webgpu/'))?.[1].file;
      expect(chunk).toMatch(/\.js$/);
      expect(requests.filter((r) => r.endsWith(chunk!))).toEqual([]);
      expect(requests.some((r) => r.includes('/assets/'))).toBe(true);
    }
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it.concurrent('keeps to its bundle budget: first paint under 10 kB gzipped, tfjs and the rest loaded later', async () => {
    const { measureBundle } = await import('../bundle-size.js');
    const parts = measureBundle(join(work, 'dist'));
    const [first, train] = parts;
    expect(first!.moment).toBe('first paint');
    expect(first!.gzip).toBeGreaterThan(1000);
    expect(first!.gzip).toBeLessThan(10_000);
    // tfjs (hundreds of kB) comes with Validate/Train, never at first paint.
    expect(train!.gzip).toBeGreaterThan(200_000);
    const files = parts.map((p) => p.files.map((f) => f.file));
    expect(new Set(files.flat()).size).toBe(files.flat().length);
    expect(parts.map((p) => p.moment)).toEqual([
      'first paint',
      'on Validate / Train',
      'on Predict',
      'wasm backend',
      'webgpu backend (with a GPU adapter)',
      'Download report',
    ]);
  });
});
