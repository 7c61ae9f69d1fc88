import {
  isMtlError,
  type LossOutput,
  listNames,
  type ModelArtifacts,
  MtlError,
  mixSeed,
  type ParameterGroup,
  type RepresentationStep,
  type StepContext,
  saveArtifacts,
} from '@mtl/core';
import type { Batch, StepBatches } from '@mtl/data';
import { disposeBatch } from '@mtl/data';
import {
  type CustomMetric,
  flattenSliceScores,
  modelScoreKey,
  Scorer,
  scoreKey,
  scoreSlices,
} from '@mtl/scoring';
import * as tf from '@tensorflow/tfjs';
import {
  checkSavedModel,
  readSavedModel,
  type SavedModel,
  type SavedModule,
  type SavedTensor,
  savedModelArtifacts,
} from './checkpoint.js';
import { type FlowCache, runFlows, runTrunk } from './internal/flow.js';
import {
  goldsFromLabels,
  lossTerms,
  outputProbs,
  predsFromProbs,
  type TaskKind,
  type TaskLossFn,
  type TaskOutputFn,
  taskLoss,
} from './internal/kinds.js';
import { checkTaskOutputs } from './internal/output-check.js';
import type { Module, ModuleContext, ModuleOutput } from './module.js';
import { ModuleLosses } from './module-losses.js';
import { ModulePool, type WarmStartReport } from './module-pool.js';
import { moduleFromConfig } from './module-registry.js';
import { type InputShapes, inferShapes, type RowShape } from './shape-inference.js';
import { Task } from './task.js';

/**
 * Options of {@link MultitaskModel}.
 * @example
 * const model = new MultitaskModel(tasks, { seed: 3, variablePrefix: 'baseline/' });
 */
export interface MultitaskModelOptions {
  /**
   * Seed of the initialisers of modules built by this model (a module built with its own `seed`
   * keeps it). Module `m` draws from `RandomStream(seed).child(m)`. Default 0.
   */
  seed?: number;
  /**
   * Prefix of the tf.Variable names of modules this model builds, e.g. `copy/`. tfjs variable names
   * are process-wide, so two live models with equally named modules need different prefixes.
   * Checkpoint keys and `getWeights` keys never include it.
   */
  variablePrefix?: string;
  /**
   * Row shapes of the input fields (e.g. `{circle_data: [2]}`, or per task): with them, input widths
   * left out of the modules (`inputSize`, `size`) are inferred before build and given ones are
   * checked ({@link inferShapes}). Without them every module needs its sizes.
   */
  inputShapes?: InputShapes;
}

/**
 * Anything yielding batches; a @mtl/data `DictDataLoader` is one. Its `dataset` (when present)
 * lets `evaluate` skip loaders of other splits without reading them.
 * @example
 * const loader: BatchLoader = new DictDataLoader(dataset, { batchSize: 32 });
 */
export type BatchLoader = (Iterable<Batch> | AsyncIterable<Batch>) & {
  readonly dataset?: { readonly name: string; readonly split: string };
};

/**
 * Options of {@link MultitaskModel.forward}.
 * @example
 * const logits = tf.tidy(() => model.forward(batch, { tasks: ['circle_task'] }).circle_task);
 */
export interface ForwardOptions {
  /** Default false. */
  training?: boolean;
  /** Seed of the call's randomness (dropout in training); default 0. */
  seed?: number;
  /** Tasks to run; default the tasks whose label is in `batch.Y`, else those whose input fields are in `batch.X`. */
  tasks?: readonly string[];
}

/**
 * Options of {@link MultitaskModel.predict}.
 * @example
 * await model.predict(loader, { returnPreds: true, tasks: ['square_task'] });
 */
export interface PredictOptions {
  /** Also return predictions (argmax / thresholded / values); default false (golds and probs only). */
  returnPreds?: boolean;
  /** Tasks to predict; default as {@link ForwardOptions.tasks}. */
  tasks?: readonly string[];
}

/**
 * Class ids `[n]` (multiclass, binary; -1 = abstain), 0/1 rows (multi-label; -1 = missing),
 * or targets: `[n]` for one value per row, rows for several (regression).
 * @example
 * const golds: LabelArray = Int32Array.from([0, 1, -1]);
 */
export type LabelArray = Int32Array | Float32Array | Float32Array[];

/**
 * One task's predictions on one loader.
 * @example
 * const { probs, golds, preds } = (await model.predict(loader, { returnPreds: true })).circle_task!;
 */
export interface TaskPredictions {
  task: string;
  kind: TaskKind;
  dataset: string;
  split: string;
  /** Row index in the dataset of each prediction (batches may come shuffled). */
  indices: Int32Array;
  /** Rows `[n][C]`: class probabilities, per-label probabilities, or regression values. */
  probs: Float32Array[];
  /** When the batches carry the task's labels. */
  golds?: LabelArray;
  /** With `returnPreds`. */
  preds?: LabelArray;
  /** Mean loss over labeled rows (cells for multi-label/regression), when labels are present. */
  loss?: number;
}

export type { WarmStartReport } from './module-pool.js';

/**
 * Options of {@link MultitaskModel.score} and {@link MultitaskModel.evaluate}.
 * @example
 * await model.score(loaders, { slices: (task, dataset, split) => (task === 'y' ? masks[split] : undefined) });
 */
export interface ScoreOptions {
  /**
   * Named slices to score a task on besides all its rows: row masks over the dataset's rows (by
   * row index, whatever order the batches come in), or undefined for none. Each slice's metrics are
   * keyed `task/dataset/split/slice:<name>:<metric>` (@mtl/scoring's `flattenSliceScores`); a slice
   * with no row in the split, or whose rows all abstain, gets no keys.
   */
  slices?: (
    task: string,
    dataset: string,
    split: string,
  ) => Readonly<Record<string, ArrayLike<number>>> | undefined;
}

/**
 * Options of {@link MultitaskModel.load}.
 * @example
 * await MultitaskModel.load('model.json', { losses: { circle_task: hinge }, variablePrefix: 'copy/' });
 */
export interface LoadOptions {
  /** Custom losses by task (required for tasks saved with one). */
  losses?: Record<string, TaskLossFn>;
  /** Custom outputs by task (required for tasks saved with one). */
  outputs?: Record<string, TaskOutputFn>;
  /** Function metrics by task, then by name (required for those saved). */
  customMetrics?: Record<string, Record<string, CustomMetric>>;
  /** Modules to use instead of rebuilding from config (custom types, unregistered tf.layers). */
  modules?: Record<string, Module>;
  variablePrefix?: string;
}

interface Accumulator {
  task: Task;
  dataset: string;
  split: string;
  probs: Float32Array[];
  indices: number[];
  golds: number[][];
  preds: number[][];
  width: number;
  lossSum: number;
  lossCount: number;
  labeled: boolean;
}

/**
 * Tasks over one pool of modules shared by name. Implements @mtl/training's `Trainable`
 * (`trainableVariables`, `loss`) and gives predictions, score maps, and save/load.
 * @example
 * const model = new MultitaskModel([circleTask, squareTask], { seed: 3 });
 * model.modulePool.size;                                  // 3: base_mlp, circle_head, square_head
 * const scores = await model.score(loaders);              // {'circle_task/circleDataset/valid/accuracy': 0.93, ...}
 * await model.save('model.json');
 * const again = await MultitaskModel.load('model.json', { variablePrefix: 'copy/' });
 */
export class MultitaskModel {
  readonly seed: number;
  readonly variablePrefix: string;
  private readonly inputShapes: InputShapes | undefined;
  /** Output row shape of each task, when shape inference could tell it. */
  private outputShapes: Record<string, RowShape | undefined> = {};
  private readonly taskMap = new Map<string, Task>();
  private readonly pool: ModulePool;
  private disposed = false;

  constructor(tasks: readonly Task[] = [], options: MultitaskModelOptions = {}) {
    this.seed = options.seed ?? 0;
    if (!Number.isFinite(this.seed)) {
      throw new MtlError('INVALID_ARGUMENT', `seed must be finite, got ${this.seed}`, {
        place: 'MultitaskModel',
      });
    }
    this.variablePrefix = options.variablePrefix ?? '';
    this.pool = new ModulePool({
      seed: this.seed,
      variablePrefix: this.variablePrefix,
      user: 'task',
      place: 'MultitaskModel',
    });
    this.inputShapes = options.inputShapes;
    if (!Array.isArray(tasks)) {
      throw new MtlError('INVALID_ARGUMENT', 'expects a list of tasks', { place: 'MultitaskModel' });
    }
    this.join(tasks);
  }

  /** The tasks, in the order added. */
  get tasks(): Task[] {
    return [...this.taskMap.values()];
  }

  get taskNames(): string[] {
    return [...this.taskMap.keys()];
  }

  /** Modules by name: one entry per distinct name over all tasks. */
  get modulePool(): ReadonlyMap<string, Module> {
    return new Map(this.pool.modules);
  }

  /**
   * Row shape of a task's output (its last operation's) as shape inference found it; undefined
   * without `inputShapes` or when a module's output shape is unknown.
   */
  outputShape(task: string): RowShape | undefined {
    this.getTask(task);
    return this.outputShapes[task];
  }

  /** The task called `name`; UNKNOWN_TASK otherwise. */
  getTask(name: string): Task {
    const task = this.taskMap.get(name);
    if (task === undefined) {
      throw new MtlError('UNKNOWN_TASK', `no task "${name}" (tasks: ${listNames(this.taskMap.keys())})`, {
        place: 'MultitaskModel',
      });
    }
    return task;
  }

  /** Weight of each task's loss parts, for a trainer. */
  taskWeights(): Record<string, number> {
    return Object.fromEntries(this.tasks.map((t) => [t.name, t.weight]));
  }

  /**
   * Adds a task; its modules join the pool by name (an existing name must be the same object:
   * MODULE_CONFLICT otherwise) and new ones are built.
   */
  addTask(task: Task): void {
    this.join([task]);
  }

  /**
   * Removes a task and frees (disposes the variables of) the modules no remaining task uses,
   * unless another live model holds them too. Returns the names of the modules that left the pool.
   */
  removeTask(name: string): string[] {
    this.assertLive();
    this.getTask(name);
    this.taskMap.delete(name);
    return this.pool.removeUser(name);
  }

  /** Excludes modules from {@link trainableVariables} (e.g. a trained trunk when adding a task). */
  freeze(moduleNames: readonly string[]): void {
    this.pool.freeze(moduleNames);
  }

  unfreeze(moduleNames: readonly string[]): void {
    this.pool.unfreeze(moduleNames);
  }

  get frozenModules(): string[] {
    return this.pool.frozen;
  }

  /** The variables the optimiser updates (frozen modules excluded), named `<module>/<param>`. */
  trainableVariables(): tf.Variable[] {
    return this.pool.trainableVariables();
  }

  /** Values the modules' parameters hold ({@link ModulePool.parameterCount}). */
  parameterCount(): number {
    return this.pool.parameterCount();
  }

  /**
   * The trainable variables by module: a module that operations of several tasks run is shared by
   * them, one run by a single task's operations is that task's own (gradient-level aggregators
   * combine the tasks' gradients of the shared modules only). Frozen modules are left out, as in
   * {@link trainableVariables}.
   * @example
   * model.parameterGroups(); // [{ name: 'base_mlp', tasks: ['a', 'b'], variables: [...] }, { name: 'a_head', tasks: ['a'], ... }]
   */
  parameterGroups(): ParameterGroup[] {
    const groups: ParameterGroup[] = [];
    for (const [name, m] of this.pool.modules) {
      const variables = this.pool.isFrozen(name) ? [] : m.trainableVariables().map((v) => v.name);
      if (variables.length === 0) continue;
      let tasks = this.tasks.filter((t) => t.opSequence.some((op) => op.moduleName === name));
      // A pooled module no operation runs still belongs to the tasks that hold it.
      if (tasks.length === 0) tasks = this.tasks.filter((t) => t.modulePool.has(name));
      groups.push({ name, tasks: tasks.map((t) => t.name), variables });
    }
    return groups;
  }

  /**
   * Outputs (logits or values) of each task on one batch; operations shared by tasks run once.
   * Call inside tf.tidy.
   */
  forward(batch: Batch, options: ForwardOptions = {}): Record<string, tf.Tensor> {
    this.assertLive();
    const tasks = this.tasksFor(batch, options.tasks, false);
    const ctx: ModuleContext = { training: options.training ?? false, seed: options.seed ?? 0 };
    const outputs = runFlows(tasks, batch, this.pool.modules, ctx);
    for (const task of tasks) checkTaskOutputs(task, outputs.get(task.name)!, batch);
    return Object.fromEntries(outputs);
  }

  /**
   * The training loss of one step: for each batch, each task whose label is in `batch.Y` adds
   * its mean loss over labeled rows (0 when none is labeled) as part `task/dataset`. Rows reach only
   * the tasks their dataset labels. A batch with no label of any task is UNKNOWN_TASK. Pure tf ops:
   * call inside a gradient function or tf.tidy.
   */
  loss(step: Batch | StepBatches, ctx: StepContext): LossOutput {
    this.assertLive();
    const batches = Array.isArray(step) ? step : [step];
    const parts: Record<string, tf.Scalar> = {};
    const moduleLosses = new ModuleLosses();
    batches.forEach((batch, b) => {
      const tasks = this.labeledTasks(batch);
      if (tasks.length === 0) {
        throw new MtlError(
          'UNKNOWN_TASK',
          `the batch has labels ${listNames(Object.keys(batch.Y))} but no task reads them (tasks read ${listNames(this.tasks.map((t) => t.label))})`,
          { place: `dataset ${batch.dataset}/${batch.split}` },
        );
      }
      const outputs = runFlows(tasks, batch, this.pool.modules, {
        training: ctx.training,
        seed: mixSeed(ctx.seed, b),
        addLoss: moduleLosses.add,
      });
      addTaskLosses(tasks, outputs, batch, parts);
    });
    return { parts, ...moduleLosses.output() };
  }

  /**
   * The step split at the shared representation, for gradient-level aggregators with `gradientOf:
   * 'representation'` (MGDA-UB): {@link loss} in two halves. The **trunk** is every operation whose
   * module is shared (run by operations of two or more tasks: the `shared` groups of
   * {@link parameterGroups}); it must be a prefix of every task's flow (a shared module may read
   * only inputs and shared modules). The **representation** R is, batch by batch, every tensor of
   * each trunk output that a task-owned operation reads (or that is a task's output), in the order
   * the tasks (as added) read them; for a module with several outputs (a list or named tensors,
   * e.g. per-task outputs of a gate) all of them. `heads(R)` runs the task-owned operations on R
   * and returns what `loss(step, ctx)` returns (same parts, the trunk's and the heads' added
   * losses). With one dataset per task (mixed batches of separate datasets) R holds each batch's
   * trunk output, and a task's row of the Jacobian is zero outside its own batch.
   *
   * Refused (INVALID_ARGUMENT naming the tasks or the operation): tasks that share no module, a
   * shared module run after a task-owned one.
   * @example
   * const { representation, heads } = model.representation(batches, ctx); // inside tf.tidy
   * heads(representation).parts; // = model.loss(batches, ctx).parts
   */
  representation(step: Batch | StepBatches, ctx: StepContext): RepresentationStep {
    this.assertLive();
    const shared = this.sharedModules();
    const batches = Array.isArray(step) ? step : [step];
    const trunkLosses = new ModuleLosses();
    const runs: { tasks: Task[]; cache: FlowCache; read: string[]; seed: number }[] = [];
    const representation: tf.Tensor[] = [];
    batches.forEach((batch, b) => {
      const tasks = this.labeledTasks(batch);
      if (tasks.length === 0) {
        throw new MtlError(
          'UNKNOWN_TASK',
          `the batch has labels ${listNames(Object.keys(batch.Y))} but no task reads them (tasks read ${listNames(this.tasks.map((t) => t.label))})`,
          { place: `dataset ${batch.dataset}/${batch.split}` },
        );
      }
      const seed = mixSeed(ctx.seed, b);
      const inTrunk = (task: Task, i: number) => shared.has(task.opSequence[i]!.moduleName);
      const cache = runTrunk(
        tasks,
        batch,
        this.pool.modules,
        { training: ctx.training, seed, addLoss: trunkLosses.add },
        inTrunk,
      );
      const read: string[] = [];
      for (const task of tasks) {
        const index = new Map(task.opSequence.map((op, i) => [op.name, i]));
        const last = task.opSequence.length - 1;
        task.opSequence.forEach((op, i) => {
          const sources = inTrunk(task, i)
            ? i === last
              ? [i]
              : []
            : op.opDependencies().map((d) => index.get(d)!);
          for (const j of sources) {
            const key = task.opKeys[j]!;
            if (inTrunk(task, j) && !read.includes(key)) read.push(key);
          }
        });
      }
      for (const key of read) representation.push(...outputTensors(cache.get(key)!));
      runs.push({ tasks, cache, read, seed });
    });
    const heads = (rep: readonly tf.Tensor[]): LossOutput => {
      if (!Array.isArray(rep) || rep.length !== representation.length) {
        throw new MtlError(
          'SHAPE_MISMATCH',
          `heads() expects the ${representation.length} tensors of the representation, got ${Array.isArray(rep) ? rep.length : typeof rep}`,
          { place: 'MultitaskModel.representation' },
        );
      }
      const losses = new ModuleLosses();
      for (const [name, t] of Object.entries(trunkLosses.terms)) losses.add(name, t);
      const parts: Record<string, tf.Scalar> = {};
      let at = 0;
      batches.forEach((batch, b) => {
        const run = runs[b]!;
        const cache: FlowCache = new Map(run.cache);
        for (const key of run.read) {
          const [output, used] = replaceTensors(cache.get(key)!, rep, at);
          cache.set(key, output);
          at += used;
        }
        const outputs = runFlows(
          run.tasks,
          batch,
          this.pool.modules,
          {
            training: ctx.training,
            seed: run.seed,
            addLoss: losses.add,
          },
          cache,
        );
        addTaskLosses(run.tasks, outputs, batch, parts);
      });
      return { parts, ...losses.output() };
    };
    return { representation, heads };
  }

  /**
   * Modules run by operations of two or more tasks (the trunk of {@link representation}), checked
   * to be a prefix of every task's flow.
   */
  private sharedModules(): Set<string> {
    const users = new Map<string, Set<string>>();
    for (const task of this.tasks) {
      for (const op of task.opSequence) {
        const set = users.get(op.moduleName) ?? new Set<string>();
        set.add(task.name);
        users.set(op.moduleName, set);
      }
    }
    const shared = new Set([...users].filter(([, u]) => u.size >= 2).map(([name]) => name));
    if (shared.size === 0) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `tasks ${listNames(this.taskNames)} share no module, so the model has no shared representation; use gradientOf: parameters`,
        { place: 'MultitaskModel.representation', details: { tasks: this.taskNames } },
      );
    }
    for (const task of this.tasks) {
      const byName = new Map(task.opSequence.map((op) => [op.name, op]));
      for (const op of task.opSequence) {
        if (!shared.has(op.moduleName)) continue;
        for (const dep of op.opDependencies()) {
          const from = byName.get(dep)!;
          if (!shared.has(from.moduleName)) {
            throw new MtlError(
              'INVALID_ARGUMENT',
              `shared module "${op.moduleName}" (operation ${op.name}) reads "${from.name}" of task ${task.name}'s own module "${from.moduleName}": the tasks share no prefix there, so there is no shared representation to differentiate; use gradientOf: parameters`,
              { place: `task ${task.name} operation ${op.name}` },
            );
          }
        }
      }
    }
    return shared;
  }

  /**
   * Predictions of each task on one loader's batches (inference mode, in tf.tidy; one read per
   * batch). Works on unlabeled data: then the tasks are those whose input fields the batches have.
   * Consumes the batches: each is disposed after use.
   */
  async predict(loader: BatchLoader, options: PredictOptions = {}): Promise<Record<string, TaskPredictions>> {
    const groups = await this.collect(loader, options.tasks, options.returnPreds ?? false, false);
    const out: Record<string, TaskPredictions> = {};
    for (const g of groups.values()) {
      const prior = out[g.task.name];
      const result = finish(g, options.returnPreds ?? false);
      out[g.task.name] = prior === undefined ? result : mergePredictions(prior, result);
    }
    return out;
  }

  /**
   * Scores every task on every loader whose batches carry its labels: a flat map of
   * `task/dataset/split/<metric>` from each task's scorer, `task/dataset/split/loss`, and
   * `model/all/split/loss` = the sum over (task, dataset) of weight x mean loss in that split (the
   * objective a trainer would see if it took one batch of each). Abstained rows (-1, NaN targets)
   * are left out of every metric by the scorer, which counts them (`scored`, `abstained`). Groups
   * whose rows all abstain are left out. Consumes the batches.
   */
  async score(
    loaders: readonly BatchLoader[] | BatchLoader,
    options: ScoreOptions = {},
  ): Promise<Record<string, number>> {
    const list = isLoaderList(loaders) ? loaders : [loaders];
    const scores: Record<string, number> = {};
    const modelLoss = new Map<string, number>();
    for (const loader of list) {
      const groups = await this.collect(loader, undefined, true, true);
      for (const g of groups.values()) {
        if (!g.labeled || g.lossCount === 0) continue;
        const done = finish(g, true);
        const golds = done.golds!;
        const preds = done.preds!;
        // Abstained rows (-1 ids, -1 multi-label cells, NaN targets) stay in: the scorer leaves them
        // out of every metric and counts them (`scored`, `abstained`, `coverage`).
        let metrics: Record<string, number>;
        try {
          metrics = g.task.scorer.score(golds, preds, done.probs);
        } catch (e) {
          // Multi-label metrics score whole rows: every row may miss a cell although cells are labeled.
          if (isMtlError(e, 'ALL_ABSTAIN')) metrics = {};
          else throw e instanceof MtlError ? e.within(`task ${g.task.name} on ${g.dataset}/${g.split}`) : e;
        }
        for (const [metric, value] of Object.entries(metrics)) {
          scores[scoreKey(g.task.name, g.dataset, g.split, metric)] = value;
        }
        const masks = options.slices?.(g.task.name, g.dataset, g.split);
        if (masks !== undefined) {
          Object.assign(
            scores,
            scoreTaskSlices(g.task, done, masks, `task ${g.task.name} on ${g.dataset}/${g.split}`),
          );
        }
        const loss = done.loss!;
        scores[scoreKey(g.task.name, g.dataset, g.split, 'loss')] = loss;
        modelLoss.set(g.split, (modelLoss.get(g.split) ?? 0) + g.task.weight * loss);
      }
    }
    for (const [split, loss] of modelLoss) scores[modelScoreKey(split, 'loss')] = loss;
    return scores;
  }

  /**
   * {@link score} on the loaders of one split only, matched exactly (`valid` never matches
   * `valid_2`). A loader that does not tell its split is read and its other-split batches skipped.
   */
  async evaluate(
    loaders: readonly BatchLoader[],
    split: string,
    options: ScoreOptions = {},
  ): Promise<Record<string, number>> {
    const chosen: BatchLoader[] = [];
    for (const loader of loaders) {
      if (loader.dataset !== undefined) {
        if (loader.dataset.split === split) chosen.push(loader);
      } else {
        chosen.push(onlySplit(loader, split));
      }
    }
    return this.score(chosen, options);
  }

  /** Copies of every weight keyed `<module>/<param>` (no variable prefix); the caller disposes them. */
  getWeights(): Record<string, tf.Tensor> {
    return this.pool.getWeights();
  }

  /**
   * Assigns weights keyed `<module>/<param>` (a subset is fine, e.g. a warm start of one module);
   * an unknown key or another shape is CHECKPOINT_MISMATCH naming the module. All checks run
   * before any assignment.
   */
  setWeights(weights: Record<string, tf.Tensor>): void {
    this.assertLive();
    this.pool.setWeights(weights);
  }

  /** The description and weights that {@link save} writes (weights copied to the host). */
  toSaved(): SavedModel {
    this.assertLive();
    const modules: Record<string, SavedModule> = {};
    for (const [name, weights] of Object.entries(this.pool.toSaved())) {
      modules[name] = { config: this.pool.get(name).getConfig(), frozen: this.pool.isFrozen(name), weights };
    }
    return {
      seed: this.seed,
      tasks: this.tasks.map((t) => t.toSpec()),
      modules,
    };
  }

  /**
   * Saves the model (task specs, module configs, weights) in @mtl/core's saved format to a URL:
   * `memory://name`, `indexeddb://name`, `downloads://name`, or in Node a file path (`file://path`
   * or bare; one file, written atomically).
   */
  async save(url: string): Promise<void> {
    await saveArtifacts(url, this.toArtifacts());
  }

  /** The saved-format artifacts that {@link save} writes (kind `multitask`). */
  toArtifacts(): ModelArtifacts {
    return savedModelArtifacts(this.toSaved());
  }

  /**
   * Rebuilds a saved model. Custom losses, outputs and metric functions cannot be saved: pass them
   * again (an error names the task otherwise). A module whose parameters do not match the saved
   * weights (names or shapes) is CHECKPOINT_MISMATCH naming it.
   */
  static async load(source: string | SavedModel, options: LoadOptions = {}): Promise<MultitaskModel> {
    const place = typeof source === 'string' ? source : 'saved model';
    const saved = typeof source === 'string' ? await readSavedModel(source) : checkSavedModel(source, place);
    const modules = new Map<string, Module>();
    for (const [name, m] of Object.entries(saved.modules)) {
      modules.set(name, options.modules?.[name] ?? moduleFromConfig(m.config, `${place} module ${name}`));
    }
    const tasks = saved.tasks.map((spec) => {
      const tp = `${place} task ${spec.name}`;
      const pool: Record<string, Module> = {};
      for (const name of spec.modules) {
        const m = modules.get(name);
        if (m === undefined) {
          throw new MtlError('CHECKPOINT_CORRUPT', `uses module "${name}", which the file does not hold`, {
            place: tp,
          });
        }
        pool[name] = m;
      }
      const loss = options.losses?.[spec.name];
      const output = options.outputs?.[spec.name];
      if (spec.customLoss && loss === undefined) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          `was saved with a custom loss, which cannot be serialised: pass it again (load(path, {losses: {${spec.name}: fn}}))`,
          { place: tp },
        );
      }
      if (spec.customOutput && output === undefined) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          `was saved with a custom output, which cannot be serialised: pass it again (load(path, {outputs: {${spec.name}: fn}}))`,
          { place: tp },
        );
      }
      const custom = options.customMetrics?.[spec.name] ?? {};
      const missing = (spec.scorer.customMetrics ?? []).filter((n) => custom[n] === undefined);
      if (missing.length > 0) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          `was saved with function metrics ${listNames(missing)}: pass them again (load(path, {customMetrics: {${spec.name}: {...}}}))`,
          { place: tp },
        );
      }
      const scorer = new Scorer({
        metrics: spec.scorer.metrics,
        abstainLabel: spec.scorer.abstainLabel,
        onUndefined: spec.scorer.onUndefined,
        ...(Object.keys(custom).length > 0 ? { customMetrics: custom } : {}),
      });
      return new Task({
        name: spec.name,
        kind: spec.kind,
        label: spec.label,
        weight: spec.weight,
        ...(spec.numClasses === undefined ? {} : { numClasses: spec.numClasses }),
        modulePool: pool,
        opSequence: spec.opSequence,
        scorer,
        ...(loss === undefined ? {} : { loss }),
        ...(output === undefined ? {} : { output }),
      });
    });
    const model = new MultitaskModel(tasks, {
      seed: saved.seed,
      ...(options.variablePrefix === undefined ? {} : { variablePrefix: options.variablePrefix }),
    });
    try {
      model.pool.load(savedWeights(saved), { onMissing: 'error', place });
      model.freeze(
        Object.entries(saved.modules).flatMap(([n, m]) => (m.frozen && model.pool.has(n) ? [n] : [])),
      );
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }

  /**
   * Warm start from a saved model: modules with the same name and the same parameters and shapes
   * take the saved weights; with `onMismatch: 'reinit'` the others keep their fresh initialisation
   * ('error', the default: CHECKPOINT_MISMATCH naming the module). Checks run before any
   * assignment. `modules` limits the warm start to some modules.
   */
  async loadModuleWeights(
    source: string | SavedModel,
    options: { onMismatch?: 'error' | 'reinit'; modules?: readonly string[] } = {},
  ): Promise<WarmStartReport> {
    this.assertLive();
    const place = typeof source === 'string' ? source : 'saved model';
    const saved = typeof source === 'string' ? await readSavedModel(source) : checkSavedModel(source, place);
    return this.pool.load(savedWeights(saved), {
      onMismatch: options.onMismatch ?? 'error',
      ...(options.modules === undefined ? {} : { modules: options.modules }),
      place,
    });
  }

  /** Frees every module no other live model holds. The model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.pool.dispose();
    this.taskMap.clear();
    this.disposed = true;
  }

  private assertLive(): void {
    if (this.disposed) {
      throw new MtlError('INVALID_ARGUMENT', 'the model was disposed', { place: 'MultitaskModel' });
    }
  }

  /** Validates the tasks against the model and each other, then adds them and builds new modules. */
  private join(tasks: readonly Task[]): void {
    this.assertLive();
    const names = new Set(this.taskMap.keys());
    const entries: { name: string; module: Module; user: string }[] = [];
    for (const task of tasks) {
      if (!(task instanceof Task)) {
        throw new MtlError('INVALID_ARGUMENT', 'expects Task objects', { place: 'MultitaskModel' });
      }
      if (names.has(task.name)) {
        throw new MtlError('DUPLICATE_NAME', `two tasks are named "${task.name}"`, {
          place: 'MultitaskModel',
        });
      }
      names.add(task.name);
      for (const [name, module] of task.modulePool) entries.push({ name, module, user: task.name });
      this.pool.check(entries);
    }
    if (this.inputShapes !== undefined) {
      this.outputShapes = inferShapes([...this.tasks, ...tasks], this.inputShapes);
    }
    this.pool.add(entries);
    for (const task of tasks) this.taskMap.set(task.name, task);
  }

  /** Tasks whose label the batch carries. */
  private labeledTasks(batch: Batch): Task[] {
    return this.tasks.filter((t) => batch.Y[t.label] !== undefined);
  }

  /** Tasks to run on a batch: as asked, else the labeled ones, else those whose inputs are present. */
  private tasksFor(batch: Batch, names: readonly string[] | undefined, labeledOnly: boolean): Task[] {
    if (names !== undefined) return names.map((n) => this.getTask(n));
    const labeled = this.labeledTasks(batch);
    if (labeled.length > 0 || labeledOnly) return labeled;
    const readable = this.tasks.filter((t) => t.inputFields.every((f) => batch.X[f] !== undefined));
    if (readable.length === 0) {
      throw new MtlError(
        'UNKNOWN_FIELD',
        `no task can read this batch: fields ${listNames(Object.keys(batch.X))}; tasks read ${listNames(
          this.tasks.map((t) => `${t.name} (${t.inputFields.join(', ')})`),
        )}`,
        { place: `dataset ${batch.dataset}/${batch.split}` },
      );
    }
    return readable;
  }

  /** Runs the tasks on every batch and reads their outputs, grouped by task, dataset and split. */
  private async collect(
    loader: BatchLoader,
    names: readonly string[] | undefined,
    withPreds: boolean,
    labeledOnly: boolean,
  ): Promise<Map<string, Accumulator>> {
    this.assertLive();
    const groups = new Map<string, Accumulator>();
    for await (const batch of loader) {
      try {
        const tasks = this.tasksFor(batch, names, labeledOnly);
        if (tasks.length === 0) continue;
        const layout: {
          acc: Accumulator;
          probCols: number;
          goldWidth: number;
          rows: number;
          host: boolean;
        }[] = [];
        const flat = tf.tidy(() => {
          const outputs = runFlows(tasks, batch, this.pool.modules, { training: false, seed: 0 });
          const pieces: tf.Tensor[] = [];
          for (const task of tasks) {
            const place = `task ${task.name} on dataset ${batch.dataset}/${batch.split}`;
            const logits = outputs.get(task.name)!;
            checkTaskOutputs(task, logits, batch);
            const key = `${task.name}\u0000${batch.dataset}\u0000${batch.split}`;
            let acc = groups.get(key);
            if (acc === undefined) {
              acc = newAccumulator(task, batch);
              groups.set(key, acc);
            }
            const labels = batch.Y[task.label];
            if (readsLogitsOnHost(task, logits, labels)) {
              // Softmax, loss and argmax of a few rows cost less on the host than as a dozen ops.
              const [rows, classes] = logits.shape as [number, number];
              if (labels !== undefined && labels.shape[0] !== rows) {
                throw new MtlError(
                  'DATA_SHAPE_MISMATCH',
                  `labels have ${labels.shape[0]} rows but the outputs have ${rows}`,
                  { place },
                );
              }
              pieces.push(tf.reshape(logits, [-1]));
              if (labels !== undefined)
                pieces.push(labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32'));
              layout.push({
                acc,
                probCols: classes,
                goldWidth: labels === undefined ? 0 : 1,
                rows,
                host: true,
              });
              continue;
            }
            const probs = outputProbs(task.kind, logits, task.customOutput, place);
            const rows = probs.shape[0];
            pieces.push(tf.reshape(probs, [-1]));
            let goldWidth = 0;
            if (labels !== undefined) {
              const width = task.kind === 'multilabel' || task.kind === 'regression' ? probs.shape[1] : 1;
              const terms = lossTerms(task.kind, logits, labels, task.customLoss, place);
              pieces.push(
                tf.reshape(goldsFromLabels(task.kind, labels, width), [-1]),
                tf.stack([terms.sum, terms.count]),
              );
              goldWidth = width;
            }
            if (withPreds) pieces.push(tf.reshape(predsFromProbs(task.kind, probs), [-1]));
            layout.push({ acc, probCols: probs.shape[1], goldWidth, rows, host: false });
          }
          return tf.concat(pieces);
        });
        let values: Float32Array;
        try {
          values = (await flat.data()) as Float32Array;
        } finally {
          flat.dispose();
        }
        let at = 0;
        for (const { acc, probCols, goldWidth, rows, host } of layout) {
          if (host) {
            at = readLogitsRows(acc, batch, values, at, rows, probCols, goldWidth > 0, withPreds);
            continue;
          }
          acc.width = goldWidth > 0 ? goldWidth : probCols;
          for (let r = 0; r < rows; r++) {
            acc.probs.push(values.slice(at + r * probCols, at + (r + 1) * probCols));
            acc.indices.push(batch.indices[r] ?? r);
          }
          at += rows * probCols;
          if (goldWidth > 0) {
            acc.labeled = true;
            acc.golds.push(Array.from(values.subarray(at, at + rows * goldWidth)));
            at += rows * goldWidth;
            acc.lossSum += values[at]!;
            acc.lossCount += values[at + 1]!;
            at += 2;
          }
          if (withPreds) {
            const width = acc.task.kind === 'multilabel' || acc.task.kind === 'regression' ? probCols : 1;
            acc.preds.push(Array.from(values.subarray(at, at + rows * width)));
            at += rows * width;
          }
        }
      } finally {
        disposeBatch(batch);
      }
    }
    return groups;
  }
}

/** A task's metrics on each slice of its rows (dataset row masks read through `done.indices`). */
function scoreTaskSlices(
  task: Task,
  done: TaskPredictions,
  masks: Readonly<Record<string, ArrayLike<number>>>,
  place: string,
): Record<string, number> {
  const n = done.indices.length;
  const bySlice: Record<string, Record<string, number>> = {};
  for (const [name, mask] of Object.entries(masks)) {
    const rows: boolean[] = new Array(n);
    let count = 0;
    for (let r = 0; r < n; r++) {
      const row = done.indices[r]!;
      if (row >= mask.length) {
        throw new MtlError(
          'DATA_LENGTH_MISMATCH',
          `the mask of slice ${name} has ${mask.length} entries, but the dataset has row ${row}`,
          { place },
        );
      }
      rows[r] = mask[row]! !== 0;
      if (rows[r]) count++;
    }
    if (count === 0) continue;
    try {
      Object.assign(
        bySlice,
        scoreSlices(task.scorer, done.golds!, done.preds!, done.probs, { [name]: rows }),
      );
    } catch (e) {
      if (isMtlError(e, 'ALL_ABSTAIN')) continue;
      throw e instanceof MtlError ? e.within(place) : e;
    }
  }
  return flattenSliceScores(bySlice, task.name, done.dataset, done.split);
}

/**
 * Whether {@link MultitaskModel.collect} reads a task's logits and finishes on the host: a
 * multiclass task with the default output and loss, `[B, C]` logits and class ids (or no labels).
 */
function readsLogitsOnHost(task: Task, logits: tf.Tensor, labels: tf.Tensor | undefined): boolean {
  return (
    task.kind === 'multiclass' &&
    task.customOutput === undefined &&
    logits.rank === 2 &&
    (labels === undefined || (labels.rank === 1 && task.customLoss === undefined))
  );
}

/**
 * Softmax probabilities, argmax predictions, golds and the summed cross-entropy of `rows` rows of
 * logits at `values[at]` (then their labels), as the default multiclass output and loss compute
 * them: a row labeled -1 abstains; any other label is a class id of the head (checkTaskOutputs
 * refused the batch otherwise), with loss −log p(label). Returns the offset after what it read.
 */
function readLogitsRows(
  acc: Accumulator,
  batch: Batch,
  values: Float32Array,
  at: number,
  rows: number,
  classes: number,
  labeled: boolean,
  withPreds: boolean,
): number {
  acc.width = 1;
  const labelsAt = at + rows * classes;
  const golds: number[] = [];
  const preds: number[] = [];
  for (let r = 0; r < rows; r++) {
    const z = values.subarray(at + r * classes, at + (r + 1) * classes);
    let max = Number.NEGATIVE_INFINITY;
    let best = 0;
    for (let c = 0; c < classes; c++) {
      if (z[c]! > max) {
        max = z[c]!;
        best = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(z[c]! - max);
    const row = new Float32Array(classes);
    for (let c = 0; c < classes; c++) row[c] = Math.exp(z[c]! - max) / sum;
    acc.probs.push(row);
    acc.indices.push(batch.indices[r] ?? r);
    if (withPreds) preds.push(best);
    if (labeled) {
      const y = values[labelsAt + r]!;
      golds.push(y);
      // @mtl/core's softmaxCrossEntropy rule: an id outside [0, C) abstains, uncounted.
      if (Number.isInteger(y) && y >= 0 && y < classes) {
        acc.lossCount += 1;
        acc.lossSum += Math.log(sum) + max - z[y]!;
      }
    }
  }
  if (labeled) {
    acc.labeled = true;
    acc.golds.push(golds);
  }
  if (withPreds) acc.preds.push(preds);
  return labeled ? labelsAt + rows : labelsAt;
}

function newAccumulator(task: Task, batch: Batch): Accumulator {
  return {
    task,
    dataset: batch.dataset,
    split: batch.split,
    probs: [],
    indices: [],
    golds: [],
    preds: [],
    width: 1,
    lossSum: 0,
    lossCount: 0,
    labeled: false,
  };
}

/** A list of loaders, as opposed to one loader that is itself an array of batches. */
function isLoaderList(x: readonly BatchLoader[] | BatchLoader): x is readonly BatchLoader[] {
  if (!Array.isArray(x)) return false;
  const first: unknown = x[0];
  const isBatch =
    first !== null && typeof first === 'object' && 'X' in first && 'Y' in first && 'dataset' in first;
  return !isBatch;
}

/** Flat values to the {@link LabelArray} of a kind. */
function toLabelArray(kind: TaskKind, chunks: number[][], width: number): LabelArray {
  const flat = chunks.flat();
  if (kind === 'multiclass' || kind === 'binary') return Int32Array.from(flat);
  if (kind === 'regression' && width === 1) return Float32Array.from(flat);
  const rows: Float32Array[] = [];
  for (let i = 0; i < flat.length; i += width) rows.push(Float32Array.from(flat.slice(i, i + width)));
  return rows;
}

function finish(g: Accumulator, withPreds: boolean): TaskPredictions {
  const out: TaskPredictions = {
    task: g.task.name,
    kind: g.task.kind,
    dataset: g.dataset,
    split: g.split,
    indices: Int32Array.from(g.indices),
    probs: g.probs,
  };
  if (g.labeled) {
    out.golds = toLabelArray(g.task.kind, g.golds, g.width);
    out.loss = g.lossSum / Math.max(g.lossCount, 1);
  }
  if (withPreds) out.preds = toLabelArray(g.task.kind, g.preds, g.width);
  return out;
}

function concatLabels(a: LabelArray | undefined, b: LabelArray | undefined): LabelArray | undefined {
  if (a === undefined || b === undefined) return undefined;
  if (Array.isArray(a)) return [...a, ...(b as Float32Array[])];
  const out = new (a.constructor as Int32ArrayConstructor | Float32ArrayConstructor)(a.length + b.length);
  out.set(a as ArrayLike<number>);
  out.set(b as ArrayLike<number>, a.length);
  return out;
}

/** One task over batches of several datasets (a loader that mixes them): rows in order. */
function mergePredictions(a: TaskPredictions, b: TaskPredictions): TaskPredictions {
  const out: TaskPredictions = {
    ...a,
    indices: Int32Array.from([...a.indices, ...b.indices]),
    probs: [...a.probs, ...b.probs],
  };
  const golds = concatLabels(a.golds, b.golds);
  const preds = concatLabels(a.preds, b.preds);
  if (golds === undefined) delete out.golds;
  else out.golds = golds;
  if (preds === undefined) delete out.preds;
  else out.preds = preds;
  delete out.loss;
  return out;
}

/** Passes only the batches of `split` (disposing the others). */
function onlySplit(loader: BatchLoader, split: string): BatchLoader {
  return {
    async *[Symbol.asyncIterator]() {
      for await (const batch of loader) {
        if (batch.split === split) yield batch;
        else disposeBatch(batch);
      }
    },
  };
}

/** The weights of a saved model by module, as {@link ModulePool.load} reads them. */
function savedWeights(saved: SavedModel): Record<string, Record<string, SavedTensor>> {
  return Object.fromEntries(Object.entries(saved.modules).map(([name, m]) => [name, m.weights]));
}

/** The tensors of a module output, in a fixed order (a list by position, named tensors by sorted name). */
function outputTensors(output: ModuleOutput): tf.Tensor[] {
  if (output instanceof tf.Tensor) return [output];
  if (Array.isArray(output)) return [...output];
  return Object.keys(output)
    .sort()
    .map((k) => output[k]!);
}

/** `output` with its tensors ({@link outputTensors} order) replaced by `rep[at...]`; and how many it took. */
function replaceTensors(output: ModuleOutput, rep: readonly tf.Tensor[], at: number): [ModuleOutput, number] {
  const take = (t: tf.Tensor, i: number): tf.Tensor => {
    const r = rep[at + i];
    if (!(r instanceof tf.Tensor) || r.shape.join() !== t.shape.join()) {
      throw new MtlError(
        'SHAPE_MISMATCH',
        `representation[${at + i}] must have shape [${t.shape}], got ${r instanceof tf.Tensor ? `[${r.shape}]` : typeof r}`,
        { place: 'MultitaskModel.representation' },
      );
    }
    return r;
  };
  if (output instanceof tf.Tensor) return [take(output, 0), 1];
  if (Array.isArray(output)) return [output.map(take), output.length];
  const keys = Object.keys(output).sort();
  return [Object.fromEntries(keys.map((k, i) => [k, take(output[k]!, i)])), keys.length];
}

/**
 * Each task's mean loss on its outputs for this batch, added into `parts` under
 * `task/dataset` (the outputs checked against the task first): the loss of {@link MultitaskModel}
 * and its representation step's heads share it.
 */
function addTaskLosses(
  tasks: readonly Task[],
  outputs: ReadonlyMap<string, tf.Tensor>,
  batch: Batch,
  parts: Record<string, tf.Scalar>,
): void {
  for (const task of tasks) {
    checkTaskOutputs(task, outputs.get(task.name)!, batch);
    const place = `task ${task.name} on dataset ${batch.dataset}/${batch.split}`;
    const key = `${task.name}/${batch.dataset}`;
    const mean = taskLoss(task.kind, outputs.get(task.name)!, batch.Y[task.label]!, task.customLoss, place);
    parts[key] = parts[key] === undefined ? mean : tf.add(parts[key], mean);
  }
}
