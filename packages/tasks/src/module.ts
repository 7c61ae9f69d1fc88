import { MtlError, RandomStream } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { type Initializer, initialValues } from './internal/init.js';
import { assertFreeVariableNames, assignWeights } from './internal/module-utils.js';
import type { OutputShape, RowShape } from './shape-inference.js';

/**
 * What a module sees besides its inputs on one forward call.
 * @example
 * module.apply([x], { training: true, seed: ctx.seed });
 */
export interface ModuleContext {
  /** True in training steps (dropout active), false in predict/score. */
  training: boolean;
  /**
   * A seed for this forward call (one per step and batch). Modules with randomness derive their own
   * seed from it and their name, so results are reproducible and modules draw independent noise.
   */
  seed: number;
  /**
   * Collects a named loss the module adds on this call (e.g. a quantizer's commitment loss), which
   * the model returns in `LossOutput.terms` and the Trainer adds to the objective unweighted. Absent
   * outside a training loss (predict, score, a direct `apply`): modules then add nothing. Use
   * {@link BaseModule.addLoss}, which names the loss `<module>.<loss>`.
   *
   * A collector in the context rather than tfjs-layers' stateful `layer.losses`: a module may run
   * several times in one step (shared by tasks, one call per batch) inside nested tidies and a
   * gradient tape. A list kept on the module would hold tensors across those scopes and need
   * clearing every step; the collector lives exactly as long as one `loss()` call, and an operation
   * that the forward cache runs once adds its loss once.
   */
  addLoss?: (name: string, loss: tf.Scalar) => void;
}

/**
 * A module returns one tensor, a list, or named tensors (picked by an operation input `[op, key]`).
 * @example
 * // a module returning { mean, logVar } is read by new Operation({ moduleName: 'head', inputs: [['encoder', 'mean']] })
 */
export type ModuleOutput = tf.Tensor | tf.Tensor[] | { [key: string]: tf.Tensor };

/**
 * JSON-serialisable description of a module; `type` is its key in the module registry.
 * @example
 * const config: ModuleConfig = { type: 'dense', inputSize: 4, units: 2 };
 */
export interface ModuleConfig {
  type: string;
  [option: string]: unknown;
}

/**
 * Options of {@link Module.build}.
 * @example
 * head.build('circle_head', { seed: 3, prefix: 'copy/' }); // variables copy/circle_head/kernel, copy/circle_head/bias
 */
export interface ModuleBuildOptions {
  /** Seed of the initialiser when the module was built without its own `seed`; default 0. */
  seed?: number;
  /** Prefix of the tf.Variable names (lets two models with equally named modules live together). */
  prefix?: string;
  /**
   * Draw the initial values from this stream instead of `RandomStream(seed).child(name)`. A parent
   * passes its own stream to a child registered with `{initFrom: 'parent'}`, so that a module which
   * used to hold the child's parameters itself keeps its initial values.
   */
  initStream?: RandomStream;
}

/**
 * A building block of a task's flow. A module gets its pool name when it joins a model (or by an
 * explicit {@link Module.build}): that is when its variables are created, named
 * `<prefix><moduleName>/<param>` (e.g. `base_mlp/dense_0/kernel`). Shapes follow from the
 * module's options; an input width left out (`inputSize`, `size`) is filled in before build by
 * shape inference ({@link Module.inferShape}) from the data's field shapes, so building reads no data.
 *
 * An operation with several inputs passes them as a list; built-in single-input modules concatenate
 * the list along the last axis.
 * @example
 * const head = dense({ inputSize: 4, units: 2 });
 * head.build('circle_head', { seed: 1 });
 * const logits = head.apply([tf.ones([3, 4])], { training: false, seed: 0 }) as tf.Tensor; // [3, 2]
 */
export interface Module {
  /** Registry key of the module's kind (`dense`, `mlp`, ...). */
  readonly type: string;
  /** Pool name once built, else undefined. */
  readonly name: string | undefined;
  readonly isBuilt: boolean;
  /** Creates the variables under `name`; a no-op when already built under that name. */
  build(name: string, options?: ModuleBuildOptions): void;
  apply(inputs: tf.Tensor[], ctx: ModuleContext): ModuleOutput;
  /** Variables the optimiser updates. */
  trainableVariables(): tf.Variable[];
  /** Every variable (trainable or not) by parameter name relative to the module (`dense_0/kernel`). */
  variables(): Record<string, tf.Variable>;
  /** Copies of the values by parameter name; the caller disposes them. */
  getWeights(): Record<string, tf.Tensor>;
  /** Assigns the given parameters (a subset is fine); an unknown name or a shape mismatch is CHECKPOINT_MISMATCH. */
  setWeights(weights: Record<string, tf.Tensor>): void;
  /** What {@link moduleFromConfig} needs to rebuild the module (without weights or name). */
  getConfig(): ModuleConfig;
  /** Disposes the variables; the module can be built again afterwards (with fresh weights). */
  dispose(): void;
  /**
   * Shape inference, before build: given the row shapes (no batch axis) of the inputs an operation
   * passes, fills in the input widths the module was made without, checks the given ones
   * (DATA_SHAPE_MISMATCH with `details {option, given, inferred}`, e.g. from
   * {@link resolveSize}), and returns the output's row shape(s). Without it, the module's output
   * shape is unknown to {@link inferShapes} and modules after it need their sizes given.
   */
  inferShape?(inputs: readonly RowShape[]): OutputShape | undefined;
  /** Number of parameter values the module allocates when built, its children's included (known before build). */
  parameterCount?(): number;
  /**
   * Maps parameter names of an older saved layout of the module to today's (see
   * {@link BaseModule.upgradeWeightNames}); loaders apply it to saved weights before comparing them.
   */
  upgradeWeightNames?<T>(weights: Record<string, T>): Record<string, T>;
  /**
   * A user of the module (a task) left a model while others still use it: a module with parts of
   * its own per task (a mixture of experts' gate) frees that task's part. Optional.
   */
  releaseUser?(user: string): void;
}

/**
 * One parameter of a {@link BaseModule}.
 * @example
 * const spec: ParamSpec = { name: 'kernel', shape: [4, 2], init: 'glorotUniform' };
 */
export interface ParamSpec {
  /** Name relative to the module, e.g. `kernel` or `dense_0/bias`. */
  name: string;
  shape: number[];
  init: Initializer;
  /** Fans for the scaled initialisers; default from the shape (`[in, out]`). */
  fanIn?: number;
  fanOut?: number;
  /** Default true. */
  trainable?: boolean;
}

/**
 * Base of the built-in modules and the easiest way to write one: declare the parameters
 * ({@link BaseModule.paramSpecs}) and the computation ({@link BaseModule.forward}); naming, seeded
 * initialisation, weights and disposal come from here. Register a `fromConfig` with
 * {@link registerModule} so that saved models can rebuild it.
 * @example
 * class Scale extends BaseModule {
 *   readonly type = 'scale';
 *   constructor(readonly size: number) { super(); }
 *   protected paramSpecs() { return [{ name: 'w', shape: [this.size], init: 'ones' as const }]; }
 *   protected forward([x]: tf.Tensor[]) { return tf.mul(x!, this.param('w')); }
 *   getConfig() { return { type: 'scale', size: this.size }; }
 * }
 */
export abstract class BaseModule implements Module {
  abstract readonly type: string;
  /** Seed given to the builder; wins over the model's seed. */
  protected readonly seed: number | undefined;
  private moduleName: string | undefined;
  private readonly vars = new Map<string, tf.Variable>();
  private readonly kids = new Map<string, { module: Module; initFrom: 'own' | 'parent' }>();

  constructor(options: { seed?: number | undefined } = {}) {
    this.seed = options.seed;
  }

  /** The parameters to create at build time; shapes must follow from the options alone. */
  protected abstract paramSpecs(): ParamSpec[];
  protected abstract forward(inputs: tf.Tensor[], ctx: ModuleContext): ModuleOutput;
  abstract getConfig(): ModuleConfig;

  get name(): string | undefined {
    return this.moduleName;
  }

  /**
   * Registers a child module (call it in the constructor). The child is built with this module,
   * under the name `<module>/<child>`, so its variables are `<prefix><module>/<child>/<param>`;
   * they appear as `<child>/<param>` in this module's {@link BaseModule.variables},
   * {@link BaseModule.getWeights} and {@link BaseModule.setWeights}, and are disposed and counted
   * with it. Its initial values come from `RandomStream(seed).child('<module>/<child>')` (what a
   * module of that name would draw), or with `initFrom: 'parent'` from this module's own stream
   * (children first, in registration order, then this module's parameters).
   * @example
   * class Residual extends BaseModule {
   *   readonly block = this.child('block', mlp({ hidden: [8], outputSize: 4 }));
   * }
   */
  protected child<M extends Module>(
    name: string,
    module: M,
    options: { initFrom?: 'own' | 'parent' } = {},
  ): M {
    if (typeof name !== 'string' || name === '' || name.includes('/') || this.kids.has(name)) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `a child module needs a unique name without "/", got ${JSON.stringify(name)}`,
        { place: `module ${this.type}` },
      );
    }
    if (this.moduleName !== undefined) {
      throw new MtlError('INVALID_ARGUMENT', 'children are registered before the module is built', {
        place: `module ${this.moduleName}`,
      });
    }
    this.kids.set(name, { module, initFrom: options.initFrom ?? 'own' });
    return module;
  }

  /**
   * Unregisters a child and disposes its variables (a module with per-task parts drops a task's
   * part when the task leaves the model; see {@link Module.releaseUser}).
   * @example
   * this.removeChild(`gate_${task}`);
   */
  protected removeChild(name: string): void {
    const kid = this.kids.get(name);
    if (kid === undefined) return;
    kid.module.dispose();
    this.kids.delete(name);
  }

  /** The child modules by name (see {@link BaseModule.child}). */
  children(): ReadonlyMap<string, Module> {
    return new Map([...this.kids].map(([k, { module }]) => [k, module]));
  }

  /**
   * Adds a named loss on this forward call when the model collects them (see
   * {@link ModuleContext.addLoss}); named `<module>.<loss>` (a child's module path joined by `.`).
   * @example
   * protected forward([x]: tf.Tensor[], ctx: ModuleContext) {
   *   this.addLoss(ctx, 'l1', tf.mean(tf.abs(x!)) as tf.Scalar);
   *   return x!;
   * }
   */
  protected addLoss(ctx: ModuleContext, name: string, loss: tf.Scalar): void {
    ctx.addLoss?.(`${(this.moduleName ?? this.type).replaceAll('/', '.')}.${name}`, loss);
  }

  /** Values the parameters hold, from {@link BaseModule.paramSpecs} and the children: known before anything is allocated. */
  parameterCount(): number {
    let n = this.paramSpecs().reduce((total, s) => total + s.shape.reduce((a, b) => a * b, 1), 0);
    for (const { module } of this.kids.values()) n += module.parameterCount?.() ?? 0;
    return n;
  }

  get isBuilt(): boolean {
    return this.moduleName !== undefined;
  }

  build(name: string, options: ModuleBuildOptions = {}): void {
    if (typeof name !== 'string' || name.length === 0) {
      throw new MtlError('INVALID_ARGUMENT', 'a module name must be a non-empty string', {
        place: `module ${this.type}`,
      });
    }
    if (this.moduleName !== undefined) {
      if (this.moduleName === name) return;
      throw new MtlError(
        'MODULE_CONFLICT',
        `this ${this.type} module is already built as "${this.moduleName}"; one module object has one name`,
        { place: `module ${name}` },
      );
    }
    let specs: ParamSpec[];
    try {
      specs = this.paramSpecs();
    } catch (e) {
      throw e instanceof MtlError ? e.within(`module ${name}`) : e;
    }
    const prefix = options.prefix ?? '';
    assertFreeVariableNames(
      specs.map((s) => `${prefix}${name}/${s.name}`),
      name,
    );
    const seed = this.seed ?? options.seed ?? 0;
    const rng = options.initStream ?? new RandomStream(seed).child(name);
    const built: Module[] = [];
    try {
      for (const [childName, { module, initFrom }] of this.kids) {
        module.build(`${name}/${childName}`, {
          seed,
          prefix,
          ...(initFrom === 'parent' ? { initStream: rng } : {}),
        });
        built.push(module);
      }
      for (const spec of specs) {
        const fanIn = spec.fanIn ?? spec.shape[0] ?? 1;
        const fanOut = spec.fanOut ?? spec.shape[spec.shape.length - 1] ?? 1;
        const values = initialValues(spec.init, spec.shape, { fanIn, fanOut }, rng);
        const init = tf.tensor(values, spec.shape, 'float32');
        this.vars.set(spec.name, tf.variable(init, spec.trainable ?? true, `${prefix}${name}/${spec.name}`));
        init.dispose();
      }
    } catch (e) {
      for (const m of built) m.dispose();
      for (const v of this.vars.values()) v.dispose();
      this.vars.clear();
      throw e;
    }
    this.moduleName = name;
  }

  apply(inputs: tf.Tensor[], ctx: ModuleContext): ModuleOutput {
    if (this.moduleName === undefined) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        'module is not built: add it to a MultitaskModel or call build(name) first',
        { place: `module ${this.type}` },
      );
    }
    return this.forward(inputs, ctx);
  }

  /** The variable of parameter `name` (for {@link BaseModule.forward}). */
  protected param(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (v === undefined) {
      throw new MtlError('INTERNAL', `no parameter "${name}"`, { place: `module ${this.moduleName}` });
    }
    return v;
  }

  trainableVariables(): tf.Variable[] {
    return [
      ...[...this.kids.values()].flatMap(({ module }) => module.trainableVariables()),
      ...[...this.vars.values()].filter((v) => v.trainable),
    ];
  }

  /** Own parameters by name, and each child's as `<child>/<param>`. */
  variables(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const [childName, { module }] of this.kids) {
      for (const [k, v] of Object.entries(module.variables())) out[`${childName}/${k}`] = v;
    }
    for (const [k, v] of this.vars) out[k] = v;
    return out;
  }

  getWeights(): Record<string, tf.Tensor> {
    return Object.fromEntries(Object.entries(this.variables()).map(([k, v]) => [k, tf.clone(v)]));
  }

  /** Checks every name and shape (the children's included) before assigning any. */
  setWeights(weights: Record<string, tf.Tensor>): void {
    assignWeights(this.variables(), this.upgradeWeightNames(weights), this.moduleName ?? this.type);
  }

  /**
   * Renames parameters saved by an older layout of this module (e.g. before a part moved into a
   * child module) to today's names; the default keeps every name. {@link BaseModule.setWeights}
   * applies it, and loaders comparing saved names with {@link BaseModule.variables} should too.
   */
  upgradeWeightNames<T>(weights: Record<string, T>): Record<string, T> {
    return weights;
  }

  dispose(): void {
    for (const { module } of this.kids.values()) module.dispose();
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    this.moduleName = undefined;
  }
}
