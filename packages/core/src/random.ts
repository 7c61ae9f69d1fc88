import seedrandom from 'seedrandom';
import { MtlError } from './errors.js';

/** Serialisable state of a {@link RandomStream}; restore with {@link RandomStream.fromState}. */
export interface RandomStreamState {
  seed: string;
  state: seedrandom.State.Arc4;
}

const UINT32 = 0x1_0000_0000;

/**
 * A seeded random stream (seedrandom's ARC4) that can derive child seeds and child streams and save
 * and restore its exact position. One stream, created from the config's seed, drives everything:
 * splits, shuffles, initialisers, dropout, sampling.
 *
 * tfjs random ops restart from their seed on every call, so draw a fresh `nextSeed()` per step.
 * @example
 * const rng = new RandomStream(42);
 * const order = rng.permutation(10);
 * const stepSeed = rng.nextSeed();          // for tf.randomNormal(shape, 0, 1, 'float32', stepSeed)
 * const taskRng = rng.child('circle_task');  // independent of how many draws `rng` makes later
 */
export class RandomStream {
  readonly seed: string;
  private readonly prng: seedrandom.StatefulPRNG<seedrandom.State.Arc4>;

  constructor(seed: number | string, state?: seedrandom.State.Arc4) {
    if (typeof seed === 'number' && !Number.isFinite(seed)) {
      throw new MtlError('INVALID_ARGUMENT', `seed must be a finite number or a string, got ${seed}`, {
        place: 'RandomStream',
      });
    }
    this.seed = String(seed);
    this.prng = seedrandom(this.seed, { state: state ?? true });
  }

  /** Restores a stream saved with {@link RandomStream.getState}. */
  static fromState(s: RandomStreamState): RandomStream {
    if (
      !s ||
      typeof s.seed !== 'string' ||
      !s.state ||
      !Array.isArray(s.state.S) ||
      s.state.S.length !== 256
    ) {
      throw new MtlError('CHECKPOINT_CORRUPT', 'random stream state is malformed', {
        place: 'RandomStream.fromState',
      });
    }
    return new RandomStream(s.seed, { i: s.state.i, j: s.state.j, S: [...s.state.S] });
  }

  /** A deep copy of the stream's position; JSON-serialisable. */
  getState(): RandomStreamState {
    const st = this.prng.state();
    return { seed: this.seed, state: { i: st.i, j: st.j, S: [...st.S] } };
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.prng() * n);
  }

  /** Standard normal draw (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.prng();
    const v = this.prng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A fresh non-negative 31-bit integer seed, e.g. for one training step's tfjs random ops. */
  nextSeed(): number {
    return this.prng.int32() >>> 1;
  }

  /**
   * A child stream keyed by `name`, independent of how far this stream has advanced: the same
   * parent seed and name always give the same child.
   */
  child(name: string | number): RandomStream {
    return new RandomStream(`${this.seed}/${name}`);
  }

  /** A stable 31-bit seed derived from this stream's seed and `name` (does not advance the stream). */
  childSeed(name: string | number): number {
    const p = seedrandom(`${this.seed}/${name}`);
    return Math.floor(p() * UINT32) >>> 1;
  }

  /** Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.prng() * (i + 1));
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }

  /** Shuffles `items` in place and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.prng() * (i + 1));
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }
}

let restoreMathRandom: (() => void) | undefined;

/**
 * Replaces `Math.random` with a stream seeded by `seed`, so that code which draws unseeded
 * randomness (tfjs initialisers without a seed, for example) becomes reproducible. Returns a
 * function that puts the previous `Math.random` back.
 * @example
 * const restore = seedGlobalRandom(7);
 * try { model = buildModel(); } finally { restore(); }
 */
export function seedGlobalRandom(seed: number | string): () => void {
  const previous = Math.random;
  const prng = seedrandom(`global/${seed}`);
  Math.random = prng;
  const restore = () => {
    if (Math.random === prng) Math.random = previous;
    if (restoreMathRandom === restore) restoreMathRandom = undefined;
  };
  restoreMathRandom = restore;
  return restore;
}

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
 * A 31-bit seed derived from a step seed and a name, so that two modules, tasks or samples of one
 * step never share the random stream of one tfjs op, while everything stays reproducible.
 * @example
 * tf.randomUniform(shape, 0, 1, 'float32', mixSeed(ctx.seed, 'dropout_1'));
 */
export function mixSeed(seed: number, name: string | number): number {
  let h = hashString(`${seed}/${name}`);
  // A final avalanche so that neighbouring step seeds give unrelated results.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) % 0x7fffffff;
}
