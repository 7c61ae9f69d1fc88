/** FNV-1a hash of a string, as an unsigned 32-bit integer. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A 31-bit seed derived from a step seed and a name, so that two tasks, samples or modules of one
 * step never share the stream of one tfjs random op, while everything stays reproducible.
 */
export function mixSeed(seed: number, name: string | number): number {
  let h = hashString(`${seed}/${name}`);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) % 0x7fffffff;
}
