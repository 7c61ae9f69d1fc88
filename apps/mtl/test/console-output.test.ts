import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checksummedJson } from '@mtl/core';
import { describe, expect, it } from 'vitest';
import { train } from '../src/commands/train.js';
import { cli, EXAMPLES, readJson, tempDir } from './helpers.js';

const SNORKEL = join(EXAMPLES, 'snorkel-basics.yaml');

describe('what mtl train prints', () => {
  it('--quiet prints the run directory and the final line, nothing else (train and --resume)', async () => {
    const out = join(tempDir(), 'run');
    const r = await cli('train', SNORKEL, '--out', out, '--quiet', '--set', 'training.epochs=2');
    expect(r.err).toBe('');
    const lines = r.out.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^run: ${out} \\(backend \\w+\\)$`));
    const summary = readJson<{ steps: number; epochs: number }>(join(out, 'summary.json'));
    const done = (steps: number, epochs: number) =>
      new RegExp(
        `^done \\(completed\\): ${steps} steps, ${epochs} epochs in [0-9.]+s \\(load [0-9.]+s, build [0-9.]+s, train [0-9.]+s, evaluate [0-9.]+s; cpu [0-9.]+s\\), [0-9.e+]+ examples/s; run: ${out}$`,
      );
    expect(lines[1]).toMatch(done(summary.steps, summary.epochs));

    rmSync(join(out, 'scores.json'));
    const resumed = await cli('train', '--resume', out, '--quiet');
    expect(resumed.err).toBe('');
    const resumedLines = resumed.out.split('\n');
    expect(resumedLines).toHaveLength(2);
    expect(resumedLines[0]).toBe(`resuming ${out} from its last checkpoint`);
    expect(resumedLines[1]).toMatch(done(summary.steps, summary.epochs));
  });

  it('a run without a valid split prints no empty evaluation lines (VMTL)', async () => {
    const lines: string[] = [];
    await train({
      config: join(EXAMPLES, 'vmtl-logistic.yaml'),
      out: join(tempDir(), 'run'),
      set: ['training.epochs=2'],
      bar: false,
      write: (l) => lines.push(l),
    });
    expect(lines.some((l) => l.startsWith('training: '))).toBe(true);
    expect(lines.filter((l) => l.startsWith('eval step'))).toEqual([]);
  });

  it('--from naming a task this config drops says which modules went with it', async () => {
    const dir = tempDir();
    const first = join(dir, 'three');
    const three = await cli(
      'train',
      join(EXAMPLES, 'snorkel-basics-inv-circle.yaml'),
      '--out',
      first,
      '--quiet',
      '--set',
      'training.epochs=1',
    );
    expect(three.code, three.err).toBe(0);
    const r = await cli(
      'train',
      SNORKEL,
      '--out',
      join(dir, 'two'),
      '--from',
      first,
      '--set',
      'training.epochs=1',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')).toContain(
      'task inv_circle_task of the --from run is not in this config: dropped its module inv_circle_head',
    );
  });
});

describe('runs of an earlier release', () => {
  it('mtl score and mtl predict refuse a model/model.json of format version 1, naming the file and both versions', async () => {
    const out = join(tempDir(), 'run');
    expect((await cli('train', SNORKEL, '--out', out, '--quiet', '--set', 'training.epochs=1')).code).toBe(0);
    rmSync(join(out, 'model', 'model.mtl'));
    const legacy = join(out, 'model', 'model.json');
    writeFileSync(
      legacy,
      checksummedJson({ format: 'mtl-multitask-model', version: 1, seed: 0, tasks: [], modules: {} }),
    );
    const message = `${legacy}: is format "mtl-multitask-model" version 1; this release reads "mtl-saved" version 2 (files of earlier releases are not converted: train again)`;
    const score = await cli('score', out);
    expect(score.code).toBe(2);
    expect(score.err).toContain(message);
    const input = join(out, 'in.csv');
    writeFileSync(input, 'circle_data_0,circle_data_1\n0.05,-0.02\n');
    const predict = await cli(
      'predict',
      out,
      '--task',
      'circle_task',
      '--input',
      input,
      '--output',
      join(out, 'p.csv'),
    );
    expect(predict.code).toBe(2);
    expect(predict.err).toContain(message);
  });
});

describe('mtl score on a run that was interrupted before saving its model', () => {
  it('scores the last checkpoint, and says so', async () => {
    const out = join(tempDir(), 'run');
    expect((await cli('train', SNORKEL, '--out', out, '--quiet', '--set', 'training.epochs=2')).code).toBe(0);
    const saved = await cli('score', out, '--json');
    expect(saved.err).toBe(`scored the saved model ${join(out, 'model', 'model.mtl')}`);
    // Without a checkpoint metric the final weights are the last checkpoint's.
    renameSync(join(out, 'model'), join(out, 'model.away'));
    const r = await cli('score', out, '--json');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe(
      `scored ${join(out, 'checkpoints', 'last.ckpt')}: the run has no saved model (it was interrupted)`,
    );
    expect(JSON.parse(r.out)).toEqual(JSON.parse(readFileSync(join(out, 'scores.json'), 'utf8')));
  });

  it('prefers the best checkpoint to the last one', async () => {
    const out = join(tempDir(), 'run');
    const trained = await cli(
      'train',
      SNORKEL,
      '--out',
      out,
      '--quiet',
      '--set',
      'training.epochs=3',
      '--set',
      'training.checkpointMetric=model/all/valid/loss',
    );
    expect(trained.code, trained.err).toBe(0);
    // The saved model is the best weights (restoreBest), which best.ckpt holds.
    rmSync(join(out, 'model'), { recursive: true });
    const r = await cli('score', out, '--json');
    expect(r.err).toContain(join(out, 'checkpoints', 'best.ckpt'));
    expect(JSON.parse(r.out)).toEqual(readJson(join(out, 'scores.json')));
    rmSync(join(out, 'checkpoints'), { recursive: true });
    const none = await cli('score', out);
    expect(none.code).toBe(2);
    expect(none.err).toContain('is not a finished run and has no checkpoint yet');
  });
});
