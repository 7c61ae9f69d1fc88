import { listNames, MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import type { Module } from './module.js';
import type { MultitaskModel } from './multitask-model.js';
import { INPUT_SOURCE } from './operation.js';

/**
 * One input field of an exported model: its row shape (no batch axis; `null` for an axis whose
 * length varies) and dtype (`int32` for token or category ids).
 * @example
 * const field: LayersInputSpec = { shape: [2] };
 */
export interface LayersInputSpec {
  shape: (number | null)[];
  dtype?: 'float32' | 'int32';
}

/**
 * Options of {@link toLayersModel}.
 * @example
 * const options: ToLayersModelOptions = { inputs: { circle_data: { shape: [2] } } };
 */
export interface ToLayersModelOptions {
  /** Every input field the exported tasks read, by field name. */
  inputs: Readonly<Record<string, LayersInputSpec>>;
  /** Export only these tasks (default every task), in this order. */
  tasks?: readonly string[];
}

/**
 * Module kinds {@link toLayersModel} turns into standard tf.layers layers.
 * @example
 * EXPORTABLE_MODULE_KINDS.includes('dense'); // true
 */
export const EXPORTABLE_MODULE_KINDS = [
  'activation',
  'dense',
  'dropout',
  'embedding',
  'layerNorm',
  'meanPool',
  'mlp',
] as const;

// Our activation names → tf.layers'. Not `gelu`: ours is the tanh approximation, tf.layers'
// `gelu_new`, which tfjs 4.22 cannot read back from a model.json (it looks up "geluNew").
const ACTIVATION_NAMES: Record<string, string> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  elu: 'elu',
  selu: 'selu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softplus: 'softplus',
  softmax: 'softmax',
};

type Sym = tf.SymbolicTensor;

/** Applies one of our activations as a layer (leakyRelu is a layer of its own in tf.layers). */
function activationLayer(name: string, layerName: string, place: string): tf.layers.Layer | undefined {
  if (name === 'linear') return undefined;
  if (name === 'leakyRelu') return tf.layers.leakyReLU({ alpha: 0.01, name: layerName });
  const mapped = ACTIVATION_NAMES[name];
  if (mapped === undefined) {
    throw new MtlError(
      'NOT_IMPLEMENTED',
      `activation "${name}" has no tf.layers equivalent that tf.loadLayersModel reads back (exportable: leakyRelu, ${listNames(Object.keys(ACTIVATION_NAMES))})`,
      { place },
    );
  }
  return tf.layers.activation({ activation: mapped as 'relu', name: layerName });
}

/** A layer and the weights (in `layer.weights` order) it must hold once the graph is built. */
interface Pending {
  layer: tf.layers.Layer;
  weights: tf.Tensor[];
}

/**
 * The layers one module becomes, applied to symbolic inputs. A module that runs in several
 * operations reuses its layers (shared weights), as in the model.
 */
class ModuleLayers {
  private readonly layers = new Map<string, tf.layers.Layer>();

  constructor(
    readonly name: string,
    private readonly module: Module,
    private readonly pending: Pending[],
    /** Every layer made, so that a failed export can free the weights built so far. */
    private readonly made: tf.layers.Layer[],
  ) {}

  private place(): string {
    return `module ${this.name}`;
  }

  /**
   * The layer named `<module>__<suffix>`, made once; its weights are set after the graph is built.
   * (Not `<module>/...`: tf.layers names its variables `<layer>/<weight>`, and the model's own
   * variables are `<module>/<param>`, which a live model holds under that name.)
   */
  private layer(suffix: string, make: (name: string) => tf.layers.Layer, weights: () => tf.Tensor[]) {
    let layer = this.layers.get(suffix);
    if (layer === undefined) {
      layer = make(`${this.name}__${suffix}`);
      this.layers.set(suffix, layer);
      this.made.push(layer);
      const w = weights();
      if (w.length > 0) this.pending.push({ layer, weights: w });
    }
    return layer;
  }

  private single(inputs: Sym[]): Sym {
    if (inputs.length === 1) return inputs[0]!;
    return this.layer(
      'concat',
      (name) => tf.layers.concatenate({ axis: -1, name }),
      () => [],
    ).apply(inputs) as Sym;
  }

  private activate(x: Sym, activation: string, suffix: string): Sym {
    const layer =
      this.layers.get(suffix) ?? activationLayer(activation, `${this.name}__${suffix}`, this.place());
    if (layer === undefined) return x;
    if (!this.layers.has(suffix)) this.made.push(layer);
    this.layers.set(suffix, layer);
    return layer.apply(x) as Sym;
  }

  apply(inputs: Sym[]): Sym {
    const config = this.module.getConfig();
    const type = this.module.type;
    const param = (p: string) => {
      const v = this.module.variables()[p];
      if (v === undefined) {
        throw new MtlError('INTERNAL', `has no parameter "${p}"`, { place: this.place() });
      }
      return v;
    };
    switch (type) {
      case 'dropout':
        // Inference only: dropout is the identity outside training.
        return this.single(inputs);
      case 'activation':
        return this.activate(this.single(inputs), String(config.fn), 'act');
      case 'dense': {
        const useBias = config.useBias !== false;
        const units = Number(config.units);
        const x = this.single(inputs);
        const y = this.layer(
          'dense',
          (name) => tf.layers.dense({ units, useBias, name }),
          () => (useBias ? [param('kernel'), param('bias')] : [param('kernel')]),
        ).apply(x) as Sym;
        return this.activate(y, String(config.activation ?? 'linear'), 'act');
      }
      case 'mlp': {
        const hidden = config.hidden as number[];
        const outputSize = config.outputSize as number | undefined;
        const sizes = [...hidden, ...(outputSize === undefined ? [] : [outputSize])];
        let x = this.single(inputs);
        sizes.forEach((units, i) => {
          const isOutput = outputSize !== undefined && i === sizes.length - 1;
          x = this.layer(
            `dense_${i}`,
            (name) => tf.layers.dense({ units, name }),
            () => [param(`dense_${i}/kernel`), param(`dense_${i}/bias`)],
          ).apply(x) as Sym;
          const activation = String((isOutput ? config.outputActivation : config.activation) ?? 'linear');
          x = this.activate(x, activation, `act_${i}`);
        });
        return x;
      }
      case 'embedding': {
        const vocab = Number(config.vocabSize);
        const dim = Number(config.dim);
        return this.layer(
          'embedding',
          (name) => tf.layers.embedding({ inputDim: vocab, outputDim: dim, name }),
          () => [param('embeddings')],
        ).apply(this.single(inputs)) as Sym;
      }
      case 'layerNorm': {
        const affine = config.affine !== false;
        const epsilon = Number(config.epsilon ?? 1e-5);
        return this.layer(
          'layer_norm',
          (name) => tf.layers.layerNormalization({ axis: -1, epsilon, center: affine, scale: affine, name }),
          () => (affine ? [param('gamma'), param('beta')] : []),
        ).apply(this.single(inputs)) as Sym;
      }
      case 'meanPool': {
        const [x, mask] = inputs;
        if (x === undefined || inputs.length > 2) {
          throw new MtlError('INVALID_ARGUMENT', 'expects [values] or [values, mask]', {
            place: this.place(),
          });
        }
        if (mask === undefined) {
          return this.layer(
            'mean',
            (name) => tf.layers.globalAveragePooling1d({ name }),
            () => [],
          ).apply(x) as Sym;
        }
        // The masked mean as standard layers: softmax over 0 (kept) / -1e9 (masked) logits gives
        // the weights mask / Σ mask, and a dot product over the time axis the weighted sum.
        // (A row with no kept position averages every position; the module gives zeros there.)
        const logits = this.layer(
          'mask_logits',
          (name) => tf.layers.rescaling({ scale: 1e9, offset: -1e9, name }),
          () => [],
        ).apply(mask) as Sym;
        const weights = this.layer(
          'mask_weights',
          (name) => tf.layers.activation({ activation: 'softmax', name }),
          () => [],
        ).apply(logits) as Sym;
        return this.layer(
          'mean',
          (name) => tf.layers.dot({ axes: [1, 1], name }),
          () => [],
        ).apply([weights, x]) as Sym;
      }
      default:
        throw new MtlError(
          'NOT_IMPLEMENTED',
          `module kind "${type}" cannot be exported to a tf.layers model (exportable kinds: ${listNames(EXPORTABLE_MODULE_KINDS)})`,
          { place: this.place(), details: { module: this.name, kind: type } },
        );
    }
  }
}

/** The task's output as probabilities (values for regression), as `predict` gives them. */
function outputLayer(kind: string, task: string, logits: Sym, made: tf.layers.Layer[]): Sym {
  if (kind === 'binary') {
    // [1 - σ(z), σ(z)] = softmax([0, z]): a fixed 1 → 2 dense layer before a softmax.
    const layer = tf.layers.dense({ units: 2, activation: 'softmax', trainable: false, name: task });
    made.push(layer);
    const out = layer.apply(logits) as Sym;
    tf.tidy(() => layer.setWeights([tf.tensor2d([[0, 1]]), tf.zeros([2])]));
    return out;
  }
  const activation = kind === 'multiclass' ? 'softmax' : kind === 'multilabel' ? 'sigmoid' : 'linear';
  return tf.layers.activation({ activation, name: task }).apply(logits) as Sym;
}

/**
 * A standard tf.layers model computing what {@link MultitaskModel.predict} gives: one input per
 * field (named by the field), one output per task (named by the task): class probabilities for
 * multiclass and binary (2 columns), label probabilities for multilabel, values for regression.
 * Dropout is left out (inference). A module kind without a standard layer is NOT_IMPLEMENTED
 * naming the module and its kind; so is a custom task output. The weights are copies: the
 * returned model is independent of `model` (dispose it when done). Save it with any `tf.io`
 * handler (`layersModel.save('downloads://m')`) and load it with `tf.loadLayersModel`.
 * @example
 * const exported = toLayersModel(model, { inputs: { circle_data: { shape: [2] } } });
 * await exported.save('indexeddb://circle-square');
 */
export function toLayersModel(model: MultitaskModel, options: ToLayersModelOptions): tf.LayersModel {
  const taskNames = options.tasks ?? model.taskNames;
  const pool = model.modulePool;
  const modules = new Map<string, ModuleLayers>();
  const pending: Pending[] = [];
  const inputs = new Map<string, Sym>();
  const cache = new Map<string, Sym>();
  const outputs: Sym[] = [];
  const made: tf.layers.Layer[] = [];
  try {
    return buildGraph();
  } catch (e) {
    for (const layer of made) if (layer.built) layer.dispose();
    throw e;
  }

  function buildGraph(): tf.LayersModel {
    for (const taskName of taskNames) {
      const task = model.getTask(taskName);
      if (task.customOutput !== undefined) {
        throw new MtlError('NOT_IMPLEMENTED', 'a custom output function cannot be exported', {
          place: `task ${taskName}`,
        });
      }
      const byName = new Map<string, Sym>();
      task.opSequence.forEach((op, i) => {
        const key = task.opKeys[i]!;
        const place = `task ${taskName} opSequence[${i}] (${op.name})`;
        let out = cache.get(key);
        if (out === undefined) {
          const args = op.inputs.map((input) => {
            const [source, entry] = typeof input === 'string' ? [input, undefined] : input;
            if (source === INPUT_SOURCE) {
              const field = String(entry);
              let sym = inputs.get(field);
              if (sym === undefined) {
                const spec = options.inputs[field];
                if (spec === undefined) {
                  throw new MtlError(
                    'UNKNOWN_FIELD',
                    `reads input field "${field}", which options.inputs does not describe (given: ${listNames(Object.keys(options.inputs))})`,
                    { place },
                  );
                }
                sym = tf.input({ shape: spec.shape, dtype: spec.dtype ?? 'float32', name: field });
                inputs.set(field, sym);
              }
              return sym;
            }
            if (entry !== undefined) {
              throw new MtlError(
                'NOT_IMPLEMENTED',
                `reads entry ${JSON.stringify(entry)} of "${source}": modules with several outputs cannot be exported`,
                { place },
              );
            }
            return byName.get(source)!;
          });
          const module = pool.get(op.moduleName)!;
          let layers = modules.get(op.moduleName);
          if (layers === undefined) {
            layers = new ModuleLayers(op.moduleName, module, pending, made);
            modules.set(op.moduleName, layers);
          }
          out = layers.apply(args);
          cache.set(key, out);
        }
        byName.set(op.name, out);
      });
      if (modules.has(taskName) || inputs.has(taskName)) {
        throw new MtlError(
          'DUPLICATE_NAME',
          `task "${taskName}" has the name of a module or input field; the exported outputs are named by task`,
          { place: `task ${taskName}` },
        );
      }
      outputs.push(outputLayer(task.kind, taskName, byName.get(task.outputOp)!, made));
    }
    const exported = tf.model({ inputs: [...inputs.values()], outputs, name: 'mtl_export' });
    for (const { layer, weights } of pending) layer.setWeights(weights);
    return exported;
  }
}
