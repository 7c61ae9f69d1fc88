// Issue 12, items 1 and 3 end to end: a head whose width does not match the task's classes, labels
// or targets is refused by `mtl validate` and `mtl train` (exit 2, naming task, module, units and the
// expected width); rows with only some labels (empty cells) train, and every kind of task abstains on
// an empty cell.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir, writeConfig } from './helpers.js';

/** 120 seeded rows: price = x1 + 2 x2 (every 3rd empty), colour by quadrant-ish angle (every 5th empty), 3 tags. */
function shopCsv(dir: string): string {
  let s = 12345;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  };
  const lines = ['x1,x2,price,colour,t0,t1,t2'];
  for (let i = 0; i < 120; i++) {
    const x1 = rand();
    const x2 = rand();
    const price = i % 3 === 1 ? '' : (x1 + 2 * x2).toFixed(4);
    const colour = i % 5 === 2 ? '' : x1 > 0.3 ? 'red' : x2 > 0 ? 'green' : 'blue';
    const tag = (on: boolean, k: number) => (i % 7 === k ? '' : on ? '1' : '0');
    lines.push(
      [x1.toFixed(4), x2.toFixed(4), price, colour, tag(x1 > 0, 0), tag(x2 > 0, 3), tag(x1 + x2 > 0, 5)].join(
        ',',
      ),
    );
  }
  const file = join(dir, 'shop.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function config(
  dir: string,
  heads: { colour?: number; price?: number; tags?: number },
  colourSpec?: string,
): string {
  shopCsv(dir);
  return writeConfig(
    `seed: 3
data:
  shop:
    kind: csv
    path: shop.csv
    fields: { x: [x1, x2] }
    labels:
      price: { column: price, kind: regression }
      colour: ${colourSpec ?? '{ column: colour, classes: [red, green, blue] }'}
      tags: { column: [t0, t1, t2], kind: multilabel }
modules:
  trunk: { kind: mlp, inputSize: 2, hidden: [8] }
  colour_head: { kind: dense, inputSize: 8, units: ${heads.colour ?? 3} }
  price_head: { kind: dense, inputSize: 8, units: ${heads.price ?? 1} }
  tags_head: { kind: dense, inputSize: 8, units: ${heads.tags ?? 3} }
tasks:
  colour_task: { data: shop, label: colour, ops: [trunk, colour_head] }
  price_task: { data: shop, label: price, kind: regression, ops: [trunk, price_head], metrics: [mse, scored, abstained] }
  tags_task: { data: shop, label: tags, kind: multilabel, ops: [trunk, tags_head] }
training: { epochs: 2, lr: 0.02, batchSize: 16 }
`,
    'config.yaml',
    dir,
  );
}

async function refused(file: string, message: string): Promise<void> {
  const v = await cli('validate', file);
  expect(v.code).toBe(2);
  expect(v.err).toContain(message);
  const out = join(tempDir(), 'run');
  const t = await cli('train', file, '--out', out, '--quiet');
  expect(t.code).toBe(2);
  expect(t.err).toContain(message);
  expect(existsSync(join(out, 'scores.json'))).toBe(false);
}

describe('head width against the data (DATA_SHAPE_MISMATCH)', () => {
  it('a multiclass head narrower or wider than `classes` is refused by validate and train', async () => {
    await refused(
      config(tempDir(), { colour: 2 }),
      'tasks.colour_task: task colour_task: the last operation (module "colour_head") outputs 2 units but the task has 3 classes: give module "colour_head" 3 units',
    );
    await refused(config(tempDir(), { colour: 4 }), 'outputs 4 units but the task has 3 classes');
  });

  it('numClasses: 10 with a 2-unit head is refused the same way', async () => {
    const dir = tempDir();
    const file = config(dir, { colour: 2 }, '{ column: colour, numClasses: 10 }');
    // Class ids instead of names: 0..2 in the file, 10 declared.
    const csv = readFileSync(join(dir, 'shop.csv'), 'utf8')
      .replaceAll(',red,', ',0,')
      .replaceAll(',green,', ',1,')
      .replaceAll(',blue,', ',2,');
    writeFileSync(join(dir, 'shop.csv'), csv);
    await refused(file, 'module "colour_head") outputs 2 units but the task has 10 classes');
  });

  it('undeclared classes: an id the head cannot output, anywhere in the data, is refused before training', async () => {
    const dir = tempDir();
    const file = config(dir, { colour: 2 }, 'colour');
    const csv = readFileSync(join(dir, 'shop.csv'), 'utf8')
      .replaceAll(',red,', ',0,')
      .replaceAll(',green,', ',1,')
      .replaceAll(',blue,', ',2,');
    writeFileSync(join(dir, 'shop.csv'), csv);
    await refused(file, 'task colour_task: label "colour" is 2 at row');
    const v = await cli('validate', file);
    expect(v.err).toMatch(
      /outside the task's 2 classes \(ids 0\.\.1, -1 = abstain; module "colour_head" outputs 2 units\)/,
    );
  });

  it('regression and multi-label heads must match the targets and the labels', async () => {
    await refused(
      config(tempDir(), { price: 3 }),
      'task price_task: the last operation (module "price_head") outputs 3 units but the targets have 1 value per row',
    );
    await refused(
      config(tempDir(), { tags: 2 }),
      'task tags_task: the last operation (module "tags_head") outputs 2 units but the task has 3 labels',
    );
  });
});

describe('partial labels (empty cells abstain for every task kind)', () => {
  it('trains a regression, a multiclass and a multi-label task on rows with only some labels', async () => {
    const file = config(tempDir(), {});
    const v = await cli('validate', file);
    expect(v.err).toBe('');
    expect(v.code).toBe(0);
    const out = join(tempDir(), 'run');
    const t = await cli('train', file, '--out', out, '--quiet');
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    const scores = JSON.parse(readFileSync(join(out, 'scores.json'), 'utf8')) as Record<string, number>;
    for (const split of ['train', 'valid', 'test']) {
      const scored = scores[`price_task/shop/${split}/scored`]!;
      const abstained = scores[`price_task/shop/${split}/abstained`]!;
      // Every 3rd price is empty: about a third of each split abstains, and the two add up to the split.
      expect(abstained).toBeGreaterThan(0);
      expect(scored).toBeGreaterThan(0);
      expect(Number.isFinite(scores[`price_task/shop/${split}/mse`]!)).toBe(true);
      expect(Number.isFinite(scores[`colour_task/shop/${split}/accuracy`]!)).toBe(true);
      expect(Number.isFinite(scores[`tags_task/shop/${split}/loss`]!)).toBe(true);
    }
    const total = ['train', 'valid', 'test'].reduce(
      (n, s) => n + scores[`price_task/shop/${s}/scored`]! + scores[`price_task/shop/${s}/abstained`]!,
      0,
    );
    expect(total).toBe(120);
    expect(
      ['train', 'valid', 'test'].reduce((n, s) => n + scores[`price_task/shop/${s}/abstained`]!, 0),
    ).toBe(40);
  });

  it('vmtl cannot mask an abstained label: a clear error, exit 2', async () => {
    const dir = tempDir();
    const lines = ['x1,x2,y'];
    for (let i = 0; i < 40; i++) lines.push(`${(i % 7) / 7},${(i % 5) / 5},${i === 11 ? '' : i % 2}`);
    writeFileSync(join(dir, 'bin.csv'), `${lines.join('\n')}\n`);
    const file = writeConfig(
      `data:
  bin: { kind: csv, path: bin.csv, fields: { x: [x1, x2] }, labels: { y: { column: y, numClasses: 2 } } }
tasks:
  y: { data: bin }
model: { kind: vmtl }
training: { epochs: 1 }
`,
      'config.yaml',
      dir,
    );
    const v = await cli('validate', file);
    expect(v.code).toBe(2);
    expect(v.err).toContain('a vmtl task needs a label on every row (its likelihood cannot mask an abstain)');
  });
});
