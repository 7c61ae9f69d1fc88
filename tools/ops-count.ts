import { selectBackend, nativeStatus } from '@mtl/core';
import { uninstallNative } from '@mtl/native';
import * as tf from '@tensorflow/tfjs';
import { w6Midsize } from './bench/w6-midsize.js';
await selectBackend();
if (process.argv[2] === 'plain') uninstallNative();
console.log(nativeStatus().active);
const counts = new Map<string, number>();
let total = 0;
const p = await tf.profile(async () => { await w6Midsize.run({}, { quick: true, seed: 1 }); return []; });
for (const k of p.kernels) { counts.set(k.name, (counts.get(k.name) ?? 0) + 1); total++; }
console.log('kernels per step', total / 200);
console.log([...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}:${(n / 200).toFixed(2)}`).join(' '));
