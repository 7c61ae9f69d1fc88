import { listNames, MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { decodeTensor, encodeTensor, type SavedTensor } from './checkpoint.js';
import type { Module } from './module.js';

/**
 * How a warm start treated each module (see {@link ModulePool.load}).
 * @example
 * const { reused, reshaped } = pool.load(saved, { onMismatch: 'reinit' });
 */
export interface WarmStartReport {
  /** Same name, same parameters and shapes: weights loaded. */
  reused: string[];
  /** Same name, other parameters or shapes: kept its fresh initialisation. */
  reshaped: string[];
  /** In the model only. */
  new: string[];
  /** In the checkpoint only. */
  dropped: string[];
}

/**
 * Saved weights of several modules: by module name, then by parameter name relative to the module
 * (`dense_0/kernel`), as {@link ModulePool.toSaved} returns them.
 * @example
 * const saved: SavedModuleWeights = { head: { bias: { shape: [2], dtype: 'float32', values: new Float32Array(2) } } };
 */
export type SavedModuleWeights = Readonly<Record<string, Readonly<Record<string, SavedTensor>>>>;

/**
 * Options of {@link ModulePool}.
 * @example
 * const pool = new ModulePool({ seed: 3, variablePrefix: 'copy/', user: 'task', place: 'MultitaskModel' });
 */
export interface ModulePoolOptions {
  /** Initialisation seed of modules built without their own `seed` (module `m` draws from `RandomStream(seed).child(m)`); default 0. */
  seed?: number;
  /** Prefix of the tf.Variable names of the modules the pool builds (`<prefix><module>/<param>`); default ''. */
  variablePrefix?: string;
  /** What the users of modules are called in conflict messages (`task`: "tasks a and b both have ..."); default `user`. */
  user?: string;
  /** Where errors say they come from; default `ModulePool`. */
  place?: string;
}

/**
 * Options of {@link ModulePool.load}.
 * @example
 * pool.load(saved, { onMismatch: 'reinit', modules: ['trunk'], place: 'runs/a/model.mtl' });
 */
export interface ModulePoolLoadOptions {
  /**
   * A module whose saved parameters differ in names or shapes: CHECKPOINT_MISMATCH naming the
   * module and parameter (`error`, the default), or kept at its fresh initialisation and reported
   * `reshaped` (`reinit`).
   */
  onMismatch?: 'error' | 'reinit';
  /** A module the saved weights lack: reported `new` (default) or CHECKPOINT_MISMATCH (`error`). */
  onMissing?: 'new' | 'error';
  /** Load only these modules (each must be in the pool: UNKNOWN_MODULE otherwise); default all. */
  modules?: readonly string[];
  /** Names the source in errors (a URL, `saved model`). */
  place?: string;
}

/**
 * One module joining a pool: its name, the object, and who uses it (a task name).
 * @example
 * pool.add([{ name: 'base_mlp', module: base, user: 'circle_task' }]);
 */
export interface PoolEntry {
  name: string;
  module: Module;
  user: string;
}

/** Which pools hold a module: it is disposed when the last one lets go. */
const holders = new WeakMap<Module, Set<ModulePool>>();

/**
 * The modules of one model by name, and everything done to them as a set: sharing by name (one
 * object, one name, any number of users), building with the model's seed and variable prefix,
 * freezing, the variables an optimiser sees, a state dict keyed `<module>/<param>`, and loading
 * saved weights with a report (the warm start of `mtl train --from`). `MultitaskModel` and
 * `MultitaskVae` keep their modules in one.
 *
 * A module object may sit in several live pools (two models sharing a trunk); it is disposed when
 * the last pool holding it lets go.
 * @example
 * const pool = new ModulePool({ seed: 3, user: 'task' });
 * pool.add([
 *   { name: 'trunk', module: mlp({ inputSize: 2, hidden: [8] }), user: 'a' },
 *   { name: 'head', module: dense({ inputSize: 8, units: 2 }), user: 'a' },
 * ]);
 * pool.freeze(['trunk']);
 * pool.trainableVariables().map((v) => v.name); // ['head/kernel', 'head/bias']
 * pool.dispose();
 */
export class ModulePool {
  readonly seed: number;
  readonly variablePrefix: string;
  private readonly userNoun: string;
  private readonly place: string;
  private readonly map = new Map<string, Module>();
  private readonly users = new Map<string, string[]>();
  private readonly frozenSet = new Set<string>();
  private disposed = false;

  constructor(options: ModulePoolOptions = {}) {
    this.place = options.place ?? 'ModulePool';
    this.seed = options.seed ?? 0;
    if (!Number.isFinite(this.seed)) {
      throw new MtlError('INVALID_ARGUMENT', `seed must be finite, got ${this.seed}`, { place: this.place });
    }
    this.variablePrefix = options.variablePrefix ?? '';
    this.userNoun = options.user ?? 'user';
  }

  /** Number of modules. */
  get size(): number {
    return this.map.size;
  }

  /** The modules by name, in the order they joined (a live view: do not keep it across changes). */
  get modules(): ReadonlyMap<string, Module> {
    return this.map;
  }

  /** Module names in the order they joined. */
  names(): string[] {
    return [...this.map.keys()];
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  /** The module called `name`; UNKNOWN_MODULE otherwise. */
  get(name: string): Module {
    const m = this.map.get(name);
    if (m === undefined) {
      throw new MtlError('UNKNOWN_MODULE', `no module "${name}" (modules: ${listNames(this.map.keys())})`, {
        place: this.place,
      });
    }
    return m;
  }

  /** The users of a module, in the order they joined (the first is its owner in messages). */
  usersOf(name: string): string[] {
    return [...(this.users.get(name) ?? [])];
  }

  /**
   * Checks that entries may join, without changing anything: a name already taken by another
   * object, or one object under two names, is MODULE_CONFLICT naming both users; so is a module
   * already built under another name.
   */
  check(entries: readonly PoolEntry[]): void {
    this.assertLive();
    const owner = new Map<string, string>();
    for (const [name, list] of this.users) if (list.length > 0) owner.set(name, list[0]!);
    const incoming = new Map<string, Module>();
    const noun = this.userNoun;
    for (const { name, module, user } of entries) {
      const existing = this.map.get(name) ?? incoming.get(name);
      if (existing !== undefined && existing !== module) {
        throw new MtlError(
          'MODULE_CONFLICT',
          `${noun}s ${owner.get(name)} and ${user} both have a module named "${name}" but they are different objects; modules are shared by name, so use one object or two names`,
          { place: `module ${name}`, details: { module: name, [`${noun}s`]: [owner.get(name), user] } },
        );
      }
      for (const [otherName, other] of [...this.map, ...incoming]) {
        if (other === module && otherName !== name) {
          throw new MtlError(
            'MODULE_CONFLICT',
            `${noun} ${user} names a module "${name}" that ${noun} ${owner.get(otherName)} calls "${otherName}"; one module object has one name`,
            { place: `module ${name}` },
          );
        }
      }
      if (module.isBuilt && module.name !== name) {
        throw new MtlError(
          'MODULE_CONFLICT',
          `${noun} ${user} names a module "${name}" that is already built as "${module.name}"`,
          { place: `module ${name}` },
        );
      }
      if (!owner.has(name)) owner.set(name, user);
      if (existing === undefined) incoming.set(name, module);
    }
  }

  /**
   * Adds modules ({@link check}ed first): a new name builds its module (unless already built under
   * that name) with the pool's seed and variable prefix; a name already there with the same object
   * is sharing, and only records the user. All or nothing: when a build fails, the modules built by
   * this call are disposed and the pool is unchanged. Returns the names that joined.
   */
  add(entries: readonly PoolEntry[]): string[] {
    this.check(entries);
    const incoming = new Map<string, Module>();
    for (const { name, module } of entries) if (!this.map.has(name)) incoming.set(name, module);
    const built: Module[] = [];
    try {
      for (const [name, module] of incoming) {
        if (!module.isBuilt) {
          module.build(name, { seed: this.seed, prefix: this.variablePrefix });
          built.push(module);
        }
      }
    } catch (e) {
      for (const m of built) m.dispose();
      throw e;
    }
    for (const [name, module] of incoming) {
      this.map.set(name, module);
      const set = holders.get(module) ?? new Set<ModulePool>();
      set.add(this);
      holders.set(module, set);
    }
    for (const { name, user } of entries) {
      const list = this.users.get(name) ?? [];
      if (!list.includes(user)) list.push(user);
      this.users.set(name, list);
    }
    return [...incoming.keys()];
  }

  /**
   * Forgets a user: the modules nobody else uses leave the pool and are disposed (unless another
   * live pool holds them). Returns their names.
   */
  removeUser(user: string): string[] {
    this.assertLive();
    const removed: string[] = [];
    for (const [name, module] of this.map) {
      const before = this.users.get(name) ?? [];
      const list = before.filter((u) => u !== user);
      this.users.set(name, list);
      if (list.length > 0) {
        // Others still use it: a part it keeps for this user alone (a task's gate) goes.
        if (list.length < before.length) module.releaseUser?.(user);
        continue;
      }
      this.map.delete(name);
      this.users.delete(name);
      this.frozenSet.delete(name);
      release(this, module);
      removed.push(name);
    }
    return removed;
  }

  /** Excludes modules from {@link trainableVariables} (their variables stay in {@link variables}). */
  freeze(names: readonly string[]): void {
    for (const name of names) this.get(name);
    for (const name of names) this.frozenSet.add(name);
  }

  unfreeze(names: readonly string[]): void {
    for (const name of names) this.get(name);
    for (const name of names) this.frozenSet.delete(name);
  }

  isFrozen(name: string): boolean {
    return this.frozenSet.has(name);
  }

  /** Frozen module names, in the order they were frozen. */
  get frozen(): string[] {
    return [...this.frozenSet];
  }

  /** Every variable of every module, each once (trainable or not, frozen or not). */
  variables(): tf.Variable[] {
    const seen = new Set<tf.Variable>();
    for (const m of this.map.values()) for (const v of Object.values(m.variables())) seen.add(v);
    return [...seen];
  }

  /** The variables an optimiser updates: the modules' trainable ones, frozen modules left out, each once. */
  trainableVariables(): tf.Variable[] {
    const seen = new Set<tf.Variable>();
    for (const [name, m] of this.map) {
      if (this.frozenSet.has(name)) continue;
      for (const v of m.trainableVariables()) seen.add(v);
    }
    return [...seen];
  }

  /**
   * Values the modules' parameters hold: from each module's `parameterCount` (known before build),
   * else from its variables.
   */
  parameterCount(): number {
    let n = 0;
    for (const m of this.map.values()) {
      n += m.parameterCount?.() ?? Object.values(m.variables()).reduce((total, v) => total + v.size, 0);
    }
    return n;
  }

  /** The state dict: copies of every weight keyed `<module>/<param>` (no variable prefix); the caller disposes them. */
  getWeights(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, m] of this.map) {
      for (const [param, t] of Object.entries(m.getWeights())) out[`${name}/${param}`] = t;
    }
    return out;
  }

  /**
   * Assigns weights keyed `<module>/<param>` (a subset is fine); a key no module owns, an unknown
   * parameter or another shape is CHECKPOINT_MISMATCH naming the module and parameter. All checks
   * run before any assignment.
   */
  setWeights(weights: Record<string, tf.Tensor>): void {
    this.assertLive();
    const names = [...this.map.keys()].sort((a, b) => b.length - a.length);
    const byModule = new Map<string, Record<string, tf.Tensor>>();
    for (const [key, t] of Object.entries(weights)) {
      const owner = names.find((n) => key.startsWith(`${n}/`));
      if (owner === undefined) {
        throw new MtlError(
          'CHECKPOINT_MISMATCH',
          `no module owns weight "${key}" (modules: ${listNames(names)})`,
          { place: 'setWeights' },
        );
      }
      const rec = byModule.get(owner) ?? {};
      rec[key.slice(owner.length + 1)] = t;
      byModule.set(owner, rec);
    }
    for (const [owner, rec] of byModule) checkShapes(this.map.get(owner)!, owner, rec);
    for (const [owner, rec] of byModule) this.map.get(owner)!.setWeights(rec);
  }

  /** Every module's weights copied to the host, by module then parameter (what {@link load} reads). */
  toSaved(): Record<string, Record<string, SavedTensor>> {
    this.assertLive();
    const out: Record<string, Record<string, SavedTensor>> = {};
    for (const [name, m] of this.map) {
      out[name] = Object.fromEntries(Object.entries(m.variables()).map(([k, v]) => [k, encodeTensor(v)]));
    }
    return out;
  }

  /**
   * What {@link load} would do with saved weights, without assigning or throwing: each module is
   * `reused` (same parameter names and shapes, after the module's `upgradeWeightNames`),
   * `reshaped`, or `new` (not saved); saved modules the pool lacks are `dropped`.
   * @example
   * pool.compare(saved); // { reused: ['trunk'], reshaped: ['head'], new: [], dropped: ['old_head'] }
   */
  compare(saved: SavedModuleWeights, options: { modules?: readonly string[] } = {}): WarmStartReport {
    const report: WarmStartReport = { reused: [], reshaped: [], new: [], dropped: [] };
    for (const name of this.chosen(options.modules)) {
      const stored = this.upgraded(name, saved);
      if (stored === undefined) report.new.push(name);
      else if (mismatch(this.map.get(name)!, name, stored, '') === undefined) report.reused.push(name);
      else report.reshaped.push(name);
    }
    report.dropped = Object.keys(saved).filter((n) => !this.map.has(n));
    return report;
  }

  /**
   * Loads saved weights by module name (a warm start, or an exact load with `onMissing: 'error'`):
   * modules with the same parameter names and shapes take the saved values, the others are
   * treated as {@link ModulePoolLoadOptions} says. Every check runs before any assignment.
   * Legacy parameter names are renamed by each module's `upgradeWeightNames` first.
   * @example
   * const report = pool.load(saved, { onMismatch: 'reinit' }); // { reused: [...], reshaped: [...], new: [...], dropped: [...] }
   */
  load(saved: SavedModuleWeights, options: ModulePoolLoadOptions = {}): WarmStartReport {
    this.assertLive();
    const place = options.place ?? 'saved model';
    const report: WarmStartReport = { reused: [], reshaped: [], new: [], dropped: [] };
    const assign: Array<[Module, Record<string, SavedTensor>, string]> = [];
    for (const name of this.chosen(options.modules)) {
      const m = this.map.get(name)!;
      const stored = this.upgraded(name, saved);
      if (stored === undefined) {
        if (options.onMissing === 'error') {
          throw new MtlError('CHECKPOINT_MISMATCH', `module "${name}" is not in the saved model`, { place });
        }
        report.new.push(name);
        continue;
      }
      const error = mismatch(m, name, stored, place);
      if (error === undefined) {
        report.reused.push(name);
        assign.push([m, stored, name]);
      } else if (options.onMismatch === 'reinit') {
        report.reshaped.push(name);
      } else {
        throw error;
      }
    }
    report.dropped = Object.keys(saved).filter((n) => !this.map.has(n));
    for (const [m, stored, name] of assign) {
      const weights: Record<string, tf.Tensor> = {};
      try {
        for (const [param, t] of Object.entries(stored)) {
          weights[param] = decodeTensor(t, `${place} weight ${name}/${param}`);
        }
        m.setWeights(weights);
      } finally {
        tf.dispose(Object.values(weights));
      }
    }
    return report;
  }

  /** Lets go of every module: each is disposed unless another live pool holds it. The pool cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    for (const m of this.map.values()) release(this, m);
    this.map.clear();
    this.users.clear();
    this.frozenSet.clear();
    this.disposed = true;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private chosen(modules: readonly string[] | undefined): string[] {
    if (modules === undefined) return [...this.map.keys()];
    for (const n of modules) this.get(n);
    return [...modules];
  }

  private upgraded(name: string, saved: SavedModuleWeights): Record<string, SavedTensor> | undefined {
    const stored = Object.hasOwn(saved, name) ? saved[name] : undefined;
    if (stored === undefined) return undefined;
    const m = this.map.get(name)!;
    return m.upgradeWeightNames?.({ ...stored }) ?? { ...stored };
  }

  private assertLive(): void {
    if (this.disposed) {
      throw new MtlError('INVALID_ARGUMENT', 'the model was disposed', { place: this.place });
    }
  }
}

function release(pool: ModulePool, module: Module): void {
  const set = holders.get(module);
  set?.delete(pool);
  if (set === undefined || set.size === 0) {
    holders.delete(module);
    module.dispose();
  }
}

/** The CHECKPOINT_MISMATCH of a module whose parameters differ in names or shapes from saved ones, if they do. */
function mismatch(
  module: Module,
  name: string,
  saved: Record<string, SavedTensor>,
  place: string,
): MtlError | undefined {
  const vars = module.variables();
  const have = Object.keys(vars).sort();
  const want = Object.keys(saved).sort();
  if (have.join('\u0000') !== want.join('\u0000')) {
    return new MtlError(
      'CHECKPOINT_MISMATCH',
      `module "${name}" has parameters ${listNames(have)} but the saved module has ${listNames(want)}`,
      { place, details: { module: name } },
    );
  }
  for (const param of have) {
    const shape = vars[param]!.shape;
    const savedShape = saved[param]!.shape;
    if (!tf.util.arraysEqual(shape, savedShape)) {
      return new MtlError(
        'CHECKPOINT_MISMATCH',
        `module "${name}" parameter "${param}" has shape [${shape}] but the saved one has [${savedShape}]`,
        { place, details: { module: name, param, shape, savedShape } },
      );
    }
  }
  return undefined;
}

/** Shape checks of a partial assignment, before anything is assigned. */
function checkShapes(module: Module, name: string, weights: Record<string, tf.Tensor>): void {
  const vars = module.variables();
  for (const [param, t] of Object.entries(weights)) {
    const v = vars[param];
    if (v === undefined) {
      throw new MtlError(
        'CHECKPOINT_MISMATCH',
        `module "${name}" has no parameter "${param}" (parameters: ${listNames(Object.keys(vars))})`,
        { place: 'setWeights' },
      );
    }
    if (!tf.util.arraysEqual(v.shape, t.shape)) {
      throw new MtlError(
        'CHECKPOINT_MISMATCH',
        `module "${name}" parameter "${param}" has shape [${v.shape}] but the weights have [${t.shape}]`,
        { place: 'setWeights' },
      );
    }
  }
}
