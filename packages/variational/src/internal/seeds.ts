/**
 * Derives the `k`-th seed of a step from one step seed. tfjs random ops restart from their seed on
 * every call, so two ops of one step must never share a seed; a 32-bit mix keeps the derived seeds
 * far apart even for neighbouring step seeds.
 */
export function deriveSeed(seed: number, k: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul((k + 1) | 0, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 1;
}
