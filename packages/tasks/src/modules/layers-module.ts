import { MtlError, seedGlobalRandom } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { assertFreeVariableNames, assignWeights } from '../internal/module-utils.js';
import type { Module, ModuleBuildOptions, ModuleConfig, ModuleContext, ModuleOutput } from '../module.js';
import type { OutputShape, RowShape } from '../shape-inference.js';

/**
 * Options of {@link layersModule}.
 * @example
 * const options: LayersModuleOptions = { inputShape: [16] };
 */
export interface LayersModuleOptions {
  /**
   * Shape of one input row (no batch axis), a list of shapes for a layer with several inputs.
   * Needed when the layer is not built yet (a model infers it from the data when it can); a model
   * with a declared input shape is already built.
   */
  inputShape?: number[] | number[][];
}

/** The layer's weights with names relative to it: `kernel`, `bias`; `layer_<j>/...` inside a model. */
function localWeights(layer: tf.layers.Layer, prefix = ''): [string, tf.LayerVariable][] {
  if (layer instanceof tf.LayersModel) {
    return layer.layers.flatMap((sub, j) => localWeights(sub, `${prefix}layer_${j}/`));
  }
  const out: [string, tf.LayerVariable][] = [];
  const taken = new Set<string>();
  for (const w of layer.weights) {
    const original = w.originalName;
    const marker = `${layer.name}/`;
    const at = original.lastIndexOf(marker);
    let local = at >= 0 ? original.slice(at + marker.length) : original.slice(original.lastIndexOf('/') + 1);
    for (let k = 1; taken.has(local); k++) local = `${local}_${k}`;
    taken.add(local);
    out.push([`${prefix}${local}`, w]);
  }
  return out;
}

/** LayerVariable keeps its tf.Variable in a field that TypeScript calls protected. */
type WithVal = { val: tf.Variable };

/**
 * Wraps a `tf.layers` layer or model as a {@link Module}. At build, its weights are renamed to
 * `<moduleName>/<weight>` (e.g. `encoder/layer_0/kernel`), so checkpoint keys are stable; the
 * layer keeps computing with them. An operation with several inputs passes the list to the layer
 * as its input list (no concatenation). In training steps the layer is called with `training: true`.
 *
 * Saving keeps the layer's `getClassName()` and `getConfig()`; loading rebuilds it through
 * `tf.serialization`, which covers built-in layers and `tf.sequential`/`tf.model` models. A custom
 * layer class must be registered with `tf.serialization.registerClass`, or the module passed again
 * to `MultitaskModel.load(path, {modules})`.
 *
 * Initialisation: an unbuilt layer is built under the model's seed (tfjs initialisers draw from
 * `Math.random`, which is seeded during the build). A layer built before (e.g. a `tf.sequential`
 * with an `inputShape`) keeps the weights it was created with; create it under
 * `seedGlobalRandom(seed)` from @mtl/core to make those reproducible. tfjs's own dropout layers are
 * not seeded by the step seed; use the {@link dropout} module for reproducible dropout.
 * @example
 * const encoder = new LayersModule(tf.layers.dense({ units: 8 }), { inputShape: [2] }); // as layersModule(...)
 */
export class LayersModule implements Module {
  readonly type = 'tfLayers';
  readonly layer: tf.layers.Layer;
  /** As given, or inferred from the data before build. */
  inputShape: number[] | number[][] | undefined;
  private moduleName: string | undefined;
  private vars: Record<string, tf.Variable> = {};
  private disposed = false;

  constructor(layer: tf.layers.Layer, options: LayersModuleOptions = {}) {
    if (!(layer instanceof tf.layers.Layer)) {
      throw new MtlError('INVALID_ARGUMENT', 'expects a tf.layers layer or model', { place: 'layersModule' });
    }
    this.layer = layer;
    this.inputShape = options.inputShape;
  }

  get name(): string | undefined {
    return this.moduleName;
  }

  get isBuilt(): boolean {
    return this.moduleName !== undefined;
  }

  /**
   * An unbuilt layer without an `inputShape` takes the inferred one (when no axis varies); the
   * output shape comes from the layer's `computeOutputShape` (undefined when it cannot tell).
   */
  inferShape(inputs: readonly RowShape[]): OutputShape | undefined {
    const known = inputs.every((s) => s.every((d) => d !== null));
    if (
      !this.layer.built &&
      this.inputShape === undefined &&
      known &&
      !(this.layer instanceof tf.Sequential)
    ) {
      const rows = inputs.map((s) => s.map((d) => d as number));
      this.inputShape = rows.length === 1 ? rows[0]! : rows;
    }
    // A model with declared inputs (a loaded LayersModel) must get rows of those widths.
    if (this.layer instanceof tf.LayersModel) {
      if (this.layer.inputs.length !== inputs.length) {
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `the tf.layers model takes ${this.layer.inputs.length} input(s) (${this.layer.inputNames.join(', ')}), but gets ${inputs.length}`,
          { place: 'tfLayers' },
        );
      }
      this.layer.inputs.forEach((input, i) => {
        const want = input.shape.slice(1);
        const got = inputs[i]!;
        const fits =
          want.length === got.length && want.every((d, j) => d === null || got[j] === null || d === got[j]);
        if (!fits) {
          const fmt = (s: readonly (number | null)[]) => `[${s.map((d) => d ?? '?').join(', ')}]`;
          throw new MtlError(
            'DATA_SHAPE_MISMATCH',
            `the tf.layers model's input ${input.name} takes rows ${fmt(want)}, but gets rows ${fmt(got)}`,
            { place: 'tfLayers', details: { given: fmt(want), inferred: fmt(got) } },
          );
        }
      });
    }
    try {
      const shapes = inputs.map((s) => [null, ...s]);
      const out = this.layer.computeOutputShape(shapes.length === 1 ? shapes[0]! : shapes);
      const strip = (shape: (number | null)[]): RowShape => shape.slice(1);
      return Array.isArray(out[0])
        ? (out as (number | null)[][]).map(strip)
        : strip(out as (number | null)[]);
    } catch {
      return undefined;
    }
  }

  build(name: string, options: ModuleBuildOptions = {}): void {
    const place = `module ${name}`;
    if (this.moduleName !== undefined) {
      if (this.moduleName === name) return;
      throw new MtlError(
        'MODULE_CONFLICT',
        `this tf.layers module is already built as "${this.moduleName}"; one module object has one name`,
        { place },
      );
    }
    if (this.disposed) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        'the wrapped tf.layers layer was disposed with its module; wrap a new layer',
        { place },
      );
    }
    if (!this.layer.built && this.inputShape === undefined && this.layer instanceof tf.Sequential) {
      // A sequential model with a declared input shape has its weights but is marked unbuilt.
      this.layer.build();
    }
    if (!this.layer.built) {
      if (this.inputShape === undefined) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          'the layer is not built: give layersModule an inputShape (one row, no batch axis)',
          { place },
        );
      }
      const shapes = (Array.isArray(this.inputShape[0]) ? this.inputShape : [this.inputShape]) as number[][];
      const restore = seedGlobalRandom(options.seed ?? 0);
      try {
        tf.tidy(() => {
          const xs = shapes.map((s) => tf.zeros([1, ...s]));
          this.layer.apply(xs.length === 1 ? xs[0]! : xs);
        });
      } finally {
        restore();
      }
    }
    const prefix = options.prefix ?? '';
    const weights = localWeights(this.layer);
    assertFreeVariableNames(
      weights.map(([local]) => `${prefix}${name}/${local}`),
      name,
    );
    const vars: Record<string, tf.Variable> = {};
    for (const [local, lv] of weights) {
      const holder = lv as unknown as WithVal;
      const old = holder.val;
      const renamed = tf.variable(old, lv.trainable, `${prefix}${name}/${local}`);
      old.dispose();
      holder.val = renamed;
      vars[local] = renamed;
    }
    this.vars = vars;
    this.moduleName = name;
  }

  apply(inputs: tf.Tensor[], ctx: ModuleContext): ModuleOutput {
    if (this.moduleName === undefined) {
      throw new MtlError('INVALID_ARGUMENT', 'module is not built: add it to a MultitaskModel first', {
        place: 'module tfLayers',
      });
    }
    const out = this.layer.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: ctx.training });
    return out as tf.Tensor | tf.Tensor[];
  }

  trainableVariables(): tf.Variable[] {
    return Object.values(this.vars).filter((v) => v.trainable);
  }

  variables(): Record<string, tf.Variable> {
    return { ...this.vars };
  }

  getWeights(): Record<string, tf.Tensor> {
    return Object.fromEntries(Object.entries(this.vars).map(([k, v]) => [k, tf.clone(v)]));
  }

  setWeights(weights: Record<string, tf.Tensor>): void {
    assignWeights(this.vars, weights, this.moduleName ?? this.type);
  }

  getConfig(): ModuleConfig {
    const config: ModuleConfig = {
      type: this.type,
      className: this.layer.getClassName(),
      config: this.layer.getConfig() as unknown,
    };
    if (this.inputShape !== undefined) config.inputShape = this.inputShape;
    // A model's trainable flag is not in its tf.layers config (its layers keep theirs): without
    // this a frozen encoder would come back trainable from a saved model.
    if (!this.layer.trainable) config.trainable = false;
    return config;
  }

  dispose(): void {
    // The layer's variables are ours since build; disposing them leaves the layer unusable.
    for (const v of Object.values(this.vars)) v.dispose();
    if (this.moduleName !== undefined) this.disposed = true;
    this.vars = {};
    this.moduleName = undefined;
  }

  static fromConfig(config: ModuleConfig): LayersModule {
    const className = String(config.className);
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
    if (entry === undefined) {
      throw new MtlError(
        'UNKNOWN_MODULE',
        `tf.layers class "${className}" is not registered with tf.serialization: register it, or pass the module again (MultitaskModel.load(path, {modules}))`,
        { place: 'module tfLayers' },
      );
    }
    const [cls, fromConfig] = entry;
    const layer = fromConfig(cls, config.config as tf.serialization.ConfigDict) as unknown as tf.layers.Layer;
    if (config.trainable === false) layer.trainable = false;
    return new LayersModule(
      layer,
      config.inputShape === undefined ? {} : { inputShape: config.inputShape as number[] | number[][] },
    );
  }
}

/**
 * Adapts any `tf.layers` layer or model into a module.
 * @example
 * const pool = { encoder: layersModule(tf.layers.dense({ units: 8, activation: 'relu' }), { inputShape: [2] }) };
 */
export function layersModule(layer: tf.layers.Layer, options: LayersModuleOptions = {}): LayersModule {
  return new LayersModule(layer, options);
}
