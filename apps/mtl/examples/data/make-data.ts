// Writes the CSV files of csv-tasks.yaml, seeded (run from apps/mtl:
// `node --conditions=source --import tsx examples/data/make-data.ts`). Two related tasks over the
// same four sensor readings x1..x4 ~ U(-1, 1):
// - sensors.csv, label `status` (class names): "alarm" when 1.5·x1 − x2 + 0.5·x3 > 0.3, else "ok";
//   5% of the labels are left empty (abstain: the row trains nothing and is not scored).
// - yields.csv, label `yield` (regression): 2·x1 − x2 + x3 + N(0, 0.1²).
// Both targets depend on the same direction x1 − x2/2, which a shared trunk can learn once.
import { writeFileSync } from 'node:fs';
import { RandomStream } from '@mtl/core';

const rng = new RandomStream(2024);
const here = new URL('.', import.meta.url);
const u = () => 2 * rng.next() - 1;
const f = (x: number) => x.toFixed(5);

const sensors = ['x1,x2,x3,x4,status'];
for (let i = 0; i < 1200; i++) {
  const x = [u(), u(), u(), u()];
  const alarm = 1.5 * x[0]! - x[1]! + 0.5 * x[2]! > 0.3;
  const status = rng.next() < 0.05 ? '' : alarm ? 'alarm' : 'ok';
  sensors.push(`${x.map(f).join(',')},${status}`);
}
writeFileSync(new URL('sensors.csv', here), `${sensors.join('\n')}\n`);

const yields = ['x1,x2,x3,x4,yield'];
for (let i = 0; i < 600; i++) {
  const x = [u(), u(), u(), u()];
  const y = 2 * x[0]! - x[1]! + x[2]! + 0.1 * rng.normal();
  yields.push(`${x.map(f).join(',')},${f(y)}`);
}
writeFileSync(new URL('yields.csv', here), `${yields.join('\n')}\n`);
console.log('wrote sensors.csv (1200 rows) and yields.csv (600 rows)');
