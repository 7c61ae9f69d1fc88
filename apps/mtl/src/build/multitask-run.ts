import { join } from 'node:path';
import { MtlError, type RandomStream } from '@mtl/core';
import { DictDataLoader, type DictDataset, scheduleBatches } from '@mtl/data';
import type { MultitaskModel } from '@mtl/tasks';
import type { MtlConfig } from '../config/schema.js';
import type { RunModel, WarmStart } from '../run-model.js';
import type { TaskData } from './data.js';

export const MODEL_FILE = 'model.json';

/**
 * Adapter of a MultitaskModel for the commands. One loader per dataset (tasks reading the same
 * dataset share its batches: a batch feeds every task whose label it carries).
 */
export function multitaskRun(
  model: MultitaskModel,
  modules: string[],
  taskData: Readonly<Record<string, TaskData>>,
  config: MtlConfig,
  rng: RandomStream,
): RunModel {
  const { batchSize, scheduler, shuffle } = config.training;
  const datasetsOf = (split: string): DictDataset[] => {
    const seen = new Set<DictDataset>();
    for (const data of Object.values(taskData)) {
      const ds = data.splits[split];
      if (ds !== undefined) seen.add(ds);
    }
    return [...seen];
  };
  const splits = [...new Set(Object.values(taskData).flatMap((d) => Object.keys(d.splits)))];
  const loaderOf = (ds: DictDataset, shuffle: boolean) =>
    new DictDataLoader(ds, { batchSize, shuffle, seed: rng.childSeed(`loader/${ds.name}/${ds.split}`) });
  const evalLoaders = (split: string) => datasetsOf(split).map((ds) => loaderOf(ds, false));

  return {
    kind: 'multitask',
    trainable: model,
    taskNames: model.taskNames,
    moduleNames: () => [...modules],
    trainSource: () =>
      scheduleBatches(
        datasetsOf('train').map((ds) => loaderOf(ds, shuffle)),
        scheduler,
        { seed: rng.childSeed('scheduler') },
      ),
    async evaluate(split) {
      const loaders = evalLoaders(split);
      return loaders.length === 0 ? {} : model.evaluate(loaders, split);
    },
    async scoreAll() {
      return model.score(splits.flatMap((s) => evalLoaders(s)));
    },
    save: (dir) => model.save(join(dir, MODEL_FILE)),
    async warmStart(dir): Promise<WarmStart> {
      const r = await model.loadModuleWeights(join(dir, MODEL_FILE), { onMismatch: 'reinit' });
      return { reused: r.reused, new: r.new, dropped: r.dropped, reshaped: r.reshaped };
    },
    async load(dir) {
      const r = await model.loadModuleWeights(join(dir, MODEL_FILE), { onMismatch: 'error' });
      if (r.new.length > 0) {
        throw new MtlError('CHECKPOINT_MISMATCH', `the saved model has no module ${r.new.join(', ')}`, {
          place: join(dir, MODEL_FILE),
        });
      }
    },
    async predict(task, dataset) {
      const out = await model.predict(new DictDataLoader(dataset, { batchSize: 256, shuffle: false }), {
        returnPreds: true,
        tasks: [task],
      });
      const p = out[task]!;
      const order = Array.from(p.indices.keys()).sort((a, b) => p.indices[a]! - p.indices[b]!);
      const probs = order.map((i) => p.probs[i]!);
      const preds = p.preds;
      if (preds === undefined) return { probs };
      return Array.isArray(preds)
        ? { probs, preds: order.map((i) => preds[i]!) }
        : { probs, preds: order.map((i) => (preds as Int32Array | Float32Array)[i]!) };
    },
    mixing: () => null,
    dispose: () => model.dispose(),
  };
}
