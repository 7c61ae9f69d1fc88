// Writes points.csv of slice-aware.yaml, seeded (run from apps/mtl:
// `node --conditions=source --import tsx examples/data/make-slices.ts`). 2000 points (x1, x2)
// uniform in [-1, 1]²; `y` is "pos" where x1 + x2/2 > 0, else "neg", except in the corner
// x1 > 0.6 and x2 > 0.6 (4 % of the rows), where it is flipped: a small slice whose rule differs
// from the rest, which a plain model trained briefly mostly gets wrong (the setting of Chen et al.,
// "Slice-based learning", NeurIPS 2019, and of Snorkel's slicing tutorial).
import { writeFileSync } from 'node:fs';
import { RandomStream } from '@mtl/core';

const rng = new RandomStream(2026);
const u = () => 2 * rng.next() - 1;
const rows = ['x1,x2,y'];
for (let i = 0; i < 2000; i++) {
  const [a, b] = [u(), u()];
  const flipped = a > 0.6 && b > 0.6;
  rows.push(`${a.toFixed(5)},${b.toFixed(5)},${a + 0.5 * b > 0 !== flipped ? 'pos' : 'neg'}`);
}
writeFileSync(new URL('points.csv', new URL('.', import.meta.url)), `${rows.join('\n')}\n`);
