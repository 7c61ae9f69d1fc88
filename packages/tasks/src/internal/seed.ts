/** FNV-1a hash of a string, as an unsigned 32-bit integer. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A 31-bit seed derived from a step seed and a name, so that two modules (or two batches of one
 * step) never share the random stream of one tfjs op while everything stays reproducible.
 */
export function mixSeed(seed: number, name: string | number): number {
  let h = hashString(`${seed}/${name}`);
  // A final avalanche so that neighbouring step seeds give unrelated results.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) % 0x7fffffff;
}
