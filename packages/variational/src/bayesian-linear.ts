import {
  BaseModule,
  defined,
  defineModuleKind,
  intOption,
  type ModuleConfig,
  type ParamSpec,
  parseModuleOptions,
  registerModuleKind,
} from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { bayesianClassifierKind, variationalLatentKind } from './deep-modules.js';

/**
 * The options of a {@link BayesianLinear} module.
 * @example
 * bayesianLinearSchema.parse({ inputSize: 2, numTasks: 3 });
 */
export const bayesianLinearSchema = z.strictObject({
  /** Dimension D of the input rows. */
  inputSize: intOption(),
  /** Number T of tasks, one classifier posterior each. */
  numTasks: intOption(),
});

/**
 * Options of {@link BayesianLinear}.
 * @example
 * const options: BayesianLinearOptions = { inputSize: 2, numTasks: 3 };
 */
export type BayesianLinearOptions = z.input<typeof bayesianLinearSchema>;

/**
 * The Bayesian logistic-regression classifiers of T tasks: a diagonal Gaussian posterior
 * q(w_t) = N(loc_t, exp(logScale_t)²) over each task's weights, packed in one parameter
 * `posterior` `[2, T, D]` (`[0]` the means, `[1]` the log standard deviations; initialised at mean
 * 0, scale 1). One packed parameter rather than two saves the optimizer a third of its work.
 * `VmtlModel` holds it in its module pool as `classifier` and samples from it in its loss; applied
 * as a module it gives the posterior-mean logits `[B, T]`, x·loc_tᵀ.
 * @example
 * const classifier = new BayesianLinear({ inputSize: 2, numTasks: 3 });
 * classifier.build('classifier', { prefix: 'vmtl/' }); // variable vmtl/classifier/posterior
 */
export class BayesianLinear extends BaseModule {
  readonly type = 'bayesianLinear';
  readonly inputSize: number;
  readonly numTasks: number;

  constructor(options: BayesianLinearOptions) {
    const o = parseModuleOptions(bayesianLinearSchema, options, 'bayesianLinear');
    super();
    this.inputSize = o.inputSize;
    this.numTasks = o.numTasks;
  }

  protected paramSpecs(): ParamSpec[] {
    return [{ name: 'posterior', shape: [2, this.numTasks, this.inputSize], init: 'zeros' }];
  }

  protected forward([x]: tf.Tensor[]): tf.Tensor {
    const loc = tf.squeeze(tf.slice(this.param('posterior'), [0, 0, 0], [1, -1, -1]), [0]);
    return tf.matMul(x as tf.Tensor2D, loc as tf.Tensor2D, false, true);
  }

  getConfig(): ModuleConfig {
    return defined({ type: this.type, inputSize: this.inputSize, numTasks: this.numTasks });
  }
}

/**
 * The `bayesianLinear` entry of the module registry ({@link registerVariationalModules} registers it).
 * @example
 * bayesianLinearKind.create({ inputSize: 2, numTasks: 3 });
 */
export const bayesianLinearKind = defineModuleKind({
  type: 'bayesianLinear',
  schema: bayesianLinearSchema,
  description: "T tasks' Bayesian logistic-regression posteriors N(loc_t, scale_t²), packed [2, T, D].",
  create: (options) => new BayesianLinear(options),
});

/**
 * Registers this package's module kinds (`bayesianLinear`, `variationalLatent`, `bayesianClassifier`) with @mtl/tasks' registry (so `moduleFromConfig` can
 * rebuild them). Safe to call more than once.
 * @example
 * registerVariationalModules();
 */
export function registerVariationalModules(): void {
  registerModuleKind(bayesianLinearKind, { override: true });
  registerModuleKind(variationalLatentKind, { override: true });
  registerModuleKind(bayesianClassifierKind, { override: true });
}
