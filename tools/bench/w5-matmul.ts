import * as tf from '@tensorflow/tfjs';
import type { Workload } from './harness.js';

/** W5: 1024×1024 float32 matmul, median of 20 (GFLOP/s = 2n³ / time). */
export const w5Matmul: Workload = {
  id: 'W5',
  title: 'matmul 1024x1024 float32',
  variants: [{ name: 'n=1024', params: { n: 1024 } }],
  peers: () => [
    { label: 'OpenBLAS 1 thread (102 GFLOP/s)', metric: 'gflops', value: 102 },
    { label: 'OpenBLAS 2 threads (203 GFLOP/s)', metric: 'gflops', value: 203 },
  ],
  warmup: 'none',
  async run({ n = 1024 }, { quick, seed }) {
    const a = tf.randomUniform([n, n], -1, 1, 'float32', seed);
    const b = tf.randomUniform([n, n], -1, 1, 'float32', seed + 1);
    // Warm up once so kernels and memory are ready; then time `calls` products, each read back.
    const warm = tf.matMul(a, b);
    warm.dataSync();
    warm.dispose();
    // The cpu backend takes seconds per product: fewer of them there.
    const cpu = tf.getBackend() === 'cpu';
    const calls = quick ? (cpu ? 1 : 3) : cpu ? 5 : 20;
    const times: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b);
      await c.data();
      times.push(performance.now() - t0);
      c.dispose();
    }
    a.dispose();
    b.dispose();
    times.sort((x, y) => x - y);
    const ms = times[times.length >> 1]!;
    return { ms, steps: 1, examples: 0, flops: 2 * n ** 3 };
  },
};
