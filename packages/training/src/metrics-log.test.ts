import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MtlError } from '@mtl/core';
import { describe, expect, it } from 'vitest';
import { JsonlMetricsLogger, readMetricsJsonl } from './metrics-log.js';
import type { HistoryRecord } from './trainer-state.js';

const file = () => join(mkdtempSync(join(tmpdir(), 'mtl-jsonl-')), 'sub', 'metrics.jsonl');
const rec = (step: number, loss: number): HistoryRecord => ({
  step,
  epoch: Math.floor(step / 10),
  metrics: { 'model/all/train/loss': loss, 'a/ds/valid/accuracy': 0.5 },
});

describe('JSONL metrics log', () => {
  it('writes one flat JSON object per record and reads them back', async () => {
    const path = file();
    const log = new JsonlMetricsLogger(path);
    log.onLog(rec(10, 0.7));
    log.onLog(rec(20, 0.5));
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0]!)).toEqual({
      step: 10,
      epoch: 1,
      'model/all/train/loss': 0.7,
      'a/ds/valid/accuracy': 0.5,
    });
    expect(await readMetricsJsonl(path)).toEqual([rec(10, 0.7), rec(20, 0.5)]);
  });

  it('ignores a torn last line, and a logger appending after one starts a fresh line', async () => {
    const path = file();
    new JsonlMetricsLogger(path).onLog(rec(10, 0.7));
    appendFileSync(path, '{"step":20,"epoch":2,"model/all/tra');
    expect(await readMetricsJsonl(path)).toEqual([rec(10, 0.7)]);
    new JsonlMetricsLogger(path).onLog(rec(20, 0.6));
    expect(await readMetricsJsonl(path)).toEqual([rec(10, 0.7), rec(20, 0.6)]);
  });

  it('after a rewind (resume from an earlier checkpoint) later lines replace earlier ones', async () => {
    const path = file();
    const log = new JsonlMetricsLogger(path);
    for (const r of [rec(10, 0.9), rec(20, 0.8), rec(30, 0.7), rec(20, 0.81), rec(30, 0.71), rec(40, 0.6)]) {
      log.onLog(r);
    }
    const steps = (await readMetricsJsonl(path)).map((r) => [r.step, r.metrics['model/all/train/loss']]);
    expect(steps).toEqual([
      [10, 0.9],
      [20, 0.81],
      [30, 0.71],
      [40, 0.6],
    ]);
  });

  it('non-finite values are written as null and read as NaN; a bad middle line is an error with file:line', async () => {
    const path = file();
    new JsonlMetricsLogger(path).onLog({ step: 1, epoch: 0, metrics: { x: Number.NaN } });
    expect((await readMetricsJsonl(path))[0]!.metrics.x).toBeNaN();
    writeFileSync(path, '{"step":1,"epoch":0}\nnot json\n{"step":2,"epoch":0}\n');
    await expect(readMetricsJsonl(path)).rejects.toThrow(`${path}:2`);
    writeFileSync(path, '{"step":"one","epoch":0}\n');
    await expect(readMetricsJsonl(path)).rejects.toBeInstanceOf(MtlError);
  });
});
