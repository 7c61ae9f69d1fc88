import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSavedModel } from '@mtl/tasks';
import { expect, it } from 'vitest';
import { cli, EXAMPLES, tempDir, writeConfig } from './helpers.js';

it("the README's config validates and is the snorkel-basics example's", async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const yaml = readme.split('```yaml\n')[1]!.split('```')[0]!;
  const file = writeConfig(yaml, 'readme.yaml', tempDir());
  const r = await cli('validate', file);
  expect(r.err).toBe('');
  expect(r.out).toContain(
    'task circle_task: circleDataset [circle_data] -> circle_task (train 800, valid 100, test 100)',
  );
  const own = await cli('validate', join(EXAMPLES, 'snorkel-basics.yaml'));
  expect(own.out.split('\n').slice(1)).toEqual(r.out.split('\n').slice(1));
});

/** Splits a printed shell line into arguments (single quotes group, as a POSIX shell reads them). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

it("the README's wider-trunk command trains the shipped config as printed (head sizes inferred)", async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const line = readme
    .split('\n')
    .find((l) => l.startsWith('npx mtl ') && l.includes("'modules.base_mlp.hidden=[16, 8]'"));
  expect(line).toBe("npx mtl train examples/snorkel-basics.yaml --set 'modules.base_mlp.hidden=[16, 8]'");
  // The command runs from apps/mtl; a copy of the shipped example in a scratch folder keeps its
  // default run directory (runs/...) out of the repository.
  const dir = tempDir();
  mkdirSync(join(dir, 'examples'));
  copyFileSync(join(EXAMPLES, 'snorkel-basics.yaml'), join(dir, 'examples', 'snorkel-basics.yaml'));
  const cwd = process.cwd();
  process.chdir(dir);
  let r: Awaited<ReturnType<typeof cli>>;
  try {
    r = await cli(...shellWords(line!).slice(2));
  } finally {
    process.chdir(cwd);
  }
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const runs = readdirSync(join(dir, 'runs'));
  expect(runs).toHaveLength(1);
  const runDir = join(dir, 'runs', runs[0]!);
  const saved = await readSavedModel(join(runDir, 'model', 'model.mtl'));
  // The trunk is 2 -> 16 -> 8, and both heads were sized from it: kernels [8, 2].
  expect(saved.modules.base_mlp!.weights['dense_1/kernel']!.shape).toEqual([16, 8]);
  expect(saved.modules.circle_head!.config.inputSize).toBe(8);
  expect(saved.modules.square_head!.weights.kernel!.shape).toEqual([8, 2]);
  // The saved model records the resolved sizes, so scoring rebuilds it without the data's shapes.
  const scored = await cli('score', runDir, '--json');
  expect(scored.code).toBe(0);
  const scores = JSON.parse(scored.out) as Record<string, number>;
  expect(scores['circle_task/circleDataset/test/accuracy']).toBeGreaterThan(0.5);
});
