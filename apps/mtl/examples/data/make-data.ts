// Writes the CSV files of csv-tasks.yaml, seeded (run from apps/mtl:
// `node --conditions=source --import tsx examples/data/make-data.ts`). Two related tasks over the
// same four sensor readings x1..x4 ~ U(-1, 1):
// - sensors.csv, label `status` (class names): "alarm" when 1.5·x1 − x2 + 0.5·x3 > 0.3, else "ok";
//   5% of the labels are left empty (abstain: the row trains nothing and is not scored).
// - yields.csv, label `yield` (regression): 2·x1 − x2 + x3 + N(0, 0.1²).
// Both targets depend on the same direction x1 − x2/2, which a shared trunk can learn once.
// - listings.csv (listings.yaml, its own seed): flats with a categorical `city`, a free-text
//   `review` and numbers on very different scales (`area` in m², `age` in years). `price` (k€) =
//   2.2·area − 1.1·age + the city's premium + N(0, 15²); `mood` is "pos" when the review was drawn
//   with positive words, else "neg" (3% flipped). Reviews mix cases and carry one-off typos
//   (`typoN`), which a vocabulary with minCount 2 maps to the unknown id.
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

const listingsRng = new RandomStream(2025);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(listingsRng.next() * xs.length)]!;
const cities = { harbour: 120, hills: 60, centre: 250, river: 40, airport: -30, old_town: 180 } as const;
const positive = ['great', 'lovely', 'bright', 'quiet', 'spacious'];
const negative = ['noisy', 'dark', 'cramped', 'damp', 'awful'];
const filler = [
  'the',
  'flat',
  'is',
  'very',
  'and',
  'near',
  'station',
  'kitchen',
  'view',
  'street',
  'with',
  'a',
];
const listings = ['city,area,age,review,price,mood'];
for (let i = 0; i < 1500; i++) {
  const city = pick(Object.keys(cities) as (keyof typeof cities)[]);
  const area = 25 + 155 * listingsRng.next();
  const age = 90 * listingsRng.next();
  const price = 2.2 * area - 1.1 * age + cities[city] + 15 * listingsRng.normal();
  const pos = listingsRng.next() < 0.5;
  const words: string[] = [];
  const length = 4 + Math.floor(listingsRng.next() * 6);
  for (let w = 0; w < length; w++) words.push(pick(filler));
  for (let k = 0; k < 1 + Math.floor(listingsRng.next() * 2); k++) {
    words.splice(Math.floor(listingsRng.next() * words.length), 0, pick(pos ? positive : negative));
  }
  if (listingsRng.next() < 0.2) words.push(`typo${i}`);
  const review = words.map((w) => (listingsRng.next() < 0.2 ? w.toUpperCase() : w)).join(' ');
  const mood = listingsRng.next() < 0.03 ? (pos ? 'neg' : 'pos') : pos ? 'pos' : 'neg';
  listings.push(`${city},${area.toFixed(1)},${age.toFixed(0)},${review},${price.toFixed(1)},${mood}`);
}
writeFileSync(new URL('listings.csv', here), `${listings.join('\n')}\n`);
console.log('wrote sensors.csv (1200 rows), yields.csv (600 rows) and listings.csv (1500 rows)');
