import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { MtlError } from '@mtl/core';
import type { TrainerCallbacks } from './callbacks.js';
import type { HistoryRecord } from './trainer-state.js';

/**
 * Appends one JSON object per history record (epoch end or evaluation) to a file:
 * `{"step":50,"epoch":1,"model/all/train/loss":0.41,...}`. Each line is written and fsynced at
 * once, so a crash loses at most the line being written. Non-finite values are written as `null`.
 * A resumed run appends to the same file; {@link readMetricsJsonl} resolves the overlap.
 * @example
 * await trainer.fit(model, { train, callbacks: [new JsonlMetricsLogger('runs/a/metrics.jsonl')] });
 */
export class JsonlMetricsLogger implements TrainerCallbacks {
  readonly path: string;
  private started = false;

  constructor(path: string) {
    this.path = resolve(path);
  }

  onLog(record: HistoryRecord): void {
    this.append(record);
  }

  /** Appends one record as a line. */
  append(record: HistoryRecord): void {
    let prefix = '';
    if (!this.started) {
      mkdirSync(dirname(this.path), { recursive: true });
      // A torn last line (crash mid-write) must not swallow our first line.
      if (existsSync(this.path) && !endsWithNewline(this.path)) prefix = '\n';
      this.started = true;
    }
    const line = `${prefix}${JSON.stringify({ step: record.step, epoch: record.epoch, ...record.metrics })}\n`;
    const fd = openSync(this.path, 'a');
    try {
      writeSync(fd, line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

function endsWithNewline(path: string): boolean {
  const size = statSync(path).size;
  if (size === 0) return true;
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a metrics file written by {@link JsonlMetricsLogger}. A torn line (cut short by a crash)
 * is ignored; any other line that is not a JSON record is `FILE_READ` naming `file:line`. When a
 * resumed run rewrote steps that were already logged (it restarted from an earlier checkpoint),
 * the later lines replace the earlier ones, so the result is the history of the run that went on.
 * `null` values read back as NaN.
 * @example
 * const history = await readMetricsJsonl('runs/a/metrics.jsonl');
 * history.at(-1)?.metrics['model/all/train/loss'];
 */
export async function readMetricsJsonl(path: string): Promise<HistoryRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const missing = (e as { code?: string }).code === 'ENOENT';
    throw new MtlError(
      missing ? 'FILE_NOT_FOUND' : 'FILE_READ',
      missing ? 'metrics file not found' : String(e),
      {
        place: path,
        cause: e,
      },
    );
  }
  const lines = text.split('\n');
  let lastContent = lines.length - 1;
  while (lastContent >= 0 && lines[lastContent]!.trim() === '') lastContent--;
  const records: HistoryRecord[] = [];
  for (let i = 0; i <= lastContent; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      const torn = i === lastContent || (line.startsWith('{') && !line.endsWith('}'));
      if (torn) continue;
      throw new MtlError('FILE_READ', 'line is not JSON', { place: `${path}:${i + 1}` });
    }
    const record = toRecord(parsed);
    if (record === undefined) {
      throw new MtlError('FILE_READ', 'line is not a metrics record (needs numeric step and epoch)', {
        place: `${path}:${i + 1}`,
      });
    }
    while (records.length > 0 && records[records.length - 1]!.step >= record.step) records.pop();
    records.push(record);
  }
  return records;
}

function toRecord(value: unknown): HistoryRecord | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { step, epoch, ...rest } = value as Record<string, unknown>;
  if (typeof step !== 'number' || typeof epoch !== 'number') return undefined;
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(rest)) {
    if (typeof v === 'number') metrics[k] = v;
    else if (v === null) metrics[k] = Number.NaN;
    else return undefined;
  }
  return { step, epoch, metrics };
}
