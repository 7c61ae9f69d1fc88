// Rows with only some labels are the normal shape of multitask data: an empty cell abstains for every
// kind of task. Abstained entries are masked from the loss (a mean over the labeled entries; zero,
// with finite gradients, when none is) and from every metric, and counted by `scored`/`abstained`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DictDataLoader, type DictDataset } from '@mtl/data';
import { readCsv } from '@mtl/data/node';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dense } from './modules/dense.js';
import { mlp } from './modules/mlp.js';
import { MultitaskModel } from './multitask-model.js';
import { Task } from './task.js';

const dir = mkdtempSync(join(tmpdir(), 'mtl-tasks-partial-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 10 rows; price (regression), colour (3 classes by name), tags (3 labels): some cells empty, and
// row 9 has no label at all.
const CSV = [
  'x1,x2,price,colour,t0,t1,t2',
  '0.1,0.9,1.5,red,1,0,1',
  '-0.4,0.3,,green,0,,1',
  '0.8,-0.2,2.0,,1,1,0',
  '-0.7,-0.6,-1.0,blue,,,',
  '0.2,0.1,0.5,green,0,0,0',
  '0.6,0.7,,,1,0,',
  '-0.3,0.5,3.0,red,0,1,1',
  '0.9,-0.9,,blue,1,1,1',
  '-0.1,-0.2,0.0,red,,1,0',
  '0.4,0.4,,,,,',
].join('\n');

const models: MultitaskModel[] = [];
afterEach(() => {
  for (const m of models.splice(0)) m.dispose();
});

async function load(): Promise<DictDataset> {
  const path = join(dir, 'shop.csv');
  writeFileSync(path, CSV);
  return readCsv(path, {
    name: 'shop',
    split: 'valid',
    fields: { x: ['x1', 'x2'] },
    labels: {
      price: { column: 'price', kind: 'regression' },
      colour: { column: 'colour', classes: ['red', 'green', 'blue'] },
      tags: { column: ['t0', 't1', 't2'], kind: 'multilabel' },
    },
  });
}

let made = 0;
function build(): MultitaskModel {
  const trunk = mlp({ inputSize: 2, hidden: [5] });
  const task = (
    name: string,
    label: string,
    kind: 'regression' | 'multiclass' | 'multilabel',
    units: number,
  ) =>
    new Task({
      name,
      label,
      kind,
      modulePool: { trunk, [`${name}_head`]: dense({ inputSize: 5, units }) },
      opSequence: [
        { moduleName: 'trunk', inputs: [['_input_', 'x']] },
        { moduleName: `${name}_head`, inputs: ['trunk'] },
      ],
      ...(kind === 'multiclass' ? { numClasses: 3 } : {}),
      scorer:
        kind === 'regression'
          ? { metrics: ['mse', 'mae', 'scored', 'abstained'], abstainLabel: null }
          : { metrics: ['accuracy', 'scored', 'abstained'] },
    });
  const m = new MultitaskModel(
    [
      task('price_task', 'price', 'regression', 1),
      task('colour_task', 'colour', 'multiclass', 3),
      task('tags_task', 'tags', 'multilabel', 3),
    ],
    { seed: 5, variablePrefix: `p${made++}/` },
  );
  models.push(m);
  return m;
}

const ctx = { step: 0, epoch: 0, seed: 0, training: true };

/** Masked means by hand from the model's outputs on the rows. */
function handLosses(
  out: Record<string, number[][]>,
  labels: Record<string, number[][]>,
): Record<string, number> {
  let s = 0;
  let n = 0;
  out.price_task!.forEach((row, i) => {
    const y = labels.price![i]![0]!;
    if (Number.isNaN(y)) return;
    s += (row[0]! - y) ** 2;
    n++;
  });
  const price = n === 0 ? 0 : s / n;
  s = 0;
  n = 0;
  out.colour_task!.forEach((z, i) => {
    const y = labels.colour![i]![0]!;
    if (y === -1) return;
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    s += lse - z[y]!;
    n++;
  });
  const colour = n === 0 ? 0 : s / n;
  s = 0;
  n = 0;
  out.tags_task!.forEach((z, i) => {
    z.forEach((v, c) => {
      const t = labels.tags![i]![c]!;
      if (t === -1) return;
      s += Math.log1p(Math.exp(v)) - v * t;
      n++;
    });
  });
  const tags = n === 0 ? 0 : s / n;
  return { 'price_task/shop': price, 'colour_task/shop': colour, 'tags_task/shop': tags };
}

describe('partial labels across tasks (regression + multiclass + multi-label from one CSV)', () => {
  it('the loss of each task is the mean over its labeled entries; gradients are finite', async () => {
    const ds = await load();
    const model = build();
    const rows = Array.from({ length: ds.length }, (_, i) => i);
    const before = tf.memory().numTensors;
    const batch = ds.collate(rows);
    const out = tf.tidy(() => {
      const o = model.forward(batch);
      return Object.fromEntries(Object.entries(o).map(([k, t]) => [k, (t.arraySync() as number[][]) ?? []]));
    });
    const labels = {
      price: rows.map((i) => [ds.row(i).Y.price as number]),
      colour: rows.map((i) => [ds.row(i).Y.colour as number]),
      tags: rows.map((i) => ds.row(i).Y.tags as number[]),
    };
    const expected = handLosses(out, labels);
    const parts = tf.tidy(() => {
      const p = model.loss(batch, ctx).parts;
      return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.dataSync()[0]!]));
    });
    expect(Object.keys(parts).sort()).toEqual(Object.keys(expected).sort());
    for (const key of Object.keys(expected)) expect(parts[key]).toBeCloseTo(expected[key]!, 5);
    // 6 of 10 prices, 7 colours, 21 of 30 tag cells are labeled: the means above divide by those.
    expect(labels.price.filter(([v]) => !Number.isNaN(v!)).length).toBe(6);
    expect(labels.tags.flat().filter((v) => v !== -1).length).toBe(21);
    const { grads, value } = tf.tidy(() => {
      const g = tf.variableGrads(() => tf.addN(Object.values(model.loss(batch, ctx).parts)) as tf.Scalar);
      return { grads: g.grads, value: g.value };
    });
    for (const [name, g] of Object.entries(grads)) {
      const v = g.dataSync();
      expect(v.every(Number.isFinite), name).toBe(true);
    }
    expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
    tf.dispose([...Object.values(grads), value]);

    // Row 9 has no label at all: every part is 0 and every gradient is a finite 0.
    const empty = ds.collate([9]);
    const zero = tf.tidy(() => {
      const g = tf.variableGrads(() => tf.addN(Object.values(model.loss(empty, ctx).parts)) as tf.Scalar);
      const values = Object.values(g.grads).flatMap((t) => Array.from(t.dataSync()));
      return { value: g.value.dataSync()[0]!, values };
    });
    expect(zero.value).toBe(0);
    expect(zero.values.every((v) => v === 0)).toBe(true);
    for (const t of [...Object.values(empty.X), ...Object.values(empty.Y)]) t.dispose();
    for (const t of [...Object.values(batch.X), ...Object.values(batch.Y)]) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('metrics equal those of the labeled rows alone; scored + abstained count the rows', async () => {
    const ds = await load();
    const model = build();
    const scores = await model.score(new DictDataLoader(ds, { batchSize: 4 }));
    const labeled = (label: string, present: (y: number | number[]) => boolean) =>
      Array.from({ length: ds.length }, (_, i) => i).filter((i) => present(ds.row(i).Y[label]!));
    const priceRows = labeled('price', (y) => !Number.isNaN(y as number));
    const colourRows = labeled('colour', (y) => y !== -1);
    const tagRows = labeled('tags', (y) => (y as number[]).every((v) => v !== -1));
    expect([priceRows.length, colourRows.length, tagRows.length]).toEqual([6, 7, 5]);
    const alone = async (rows: number[]) =>
      model.score(new DictDataLoader(ds.subset(rows), { batchSize: 3 }));
    const price = await alone(priceRows);
    const colour = await alone(colourRows);
    const tags = await alone(tagRows);
    const k = (task: string, metric: string) => `${task}/shop/valid/${metric}`;
    for (const metric of ['mse', 'mae', 'loss']) {
      expect(scores[k('price_task', metric)]).toBeCloseTo(price[k('price_task', metric)]!, 6);
    }
    expect(scores[k('colour_task', 'accuracy')]).toBe(colour[k('colour_task', 'accuracy')]);
    expect(scores[k('colour_task', 'loss')]).toBeCloseTo(colour[k('colour_task', 'loss')]!, 6);
    expect(scores[k('tags_task', 'accuracy')]).toBe(tags[k('tags_task', 'accuracy')]);
    expect([scores[k('price_task', 'scored')], scores[k('price_task', 'abstained')]]).toEqual([6, 4]);
    expect([scores[k('colour_task', 'scored')], scores[k('colour_task', 'abstained')]]).toEqual([7, 3]);
    // Multi-label metrics score whole rows: 5 rows have every cell, 5 miss at least one.
    expect([scores[k('tags_task', 'scored')], scores[k('tags_task', 'abstained')]]).toEqual([5, 5]);
    expect([price[k('price_task', 'scored')], price[k('price_task', 'abstained')]]).toEqual([6, 0]);
    // The mse is that of the labeled rows, by hand from the predictions.
    const pred = await model.predict(new DictDataLoader(ds, { batchSize: 10 }), {
      returnPreds: true,
      tasks: ['price_task'],
    });
    const p = pred.price_task!;
    let se = 0;
    for (const i of priceRows) se += ((p.preds as Float32Array)[i]! - (ds.row(i).Y.price as number)) ** 2;
    expect(scores[k('price_task', 'mse')]).toBeCloseTo(se / priceRows.length, 5);
  });
});
