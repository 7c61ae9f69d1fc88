import { listNames, MtlError } from '@mtl/core';
import {
  type MultitaskTaskEntry,
  type SliceAwareOptions,
  type SliceCondition,
  type SliceRowMasks,
  splitSliceMasks,
  type TaskData,
  withSliceLabels,
} from '@mtl/tasks';
import { type LoadedSource, resolveTaskData } from './data.js';

/** What the app reads of a multitask task's slices (its config entry). */
interface SlicedTask {
  data: string;
  input?: string | string[] | undefined;
  label?: string | undefined;
  slices?: Record<string, SliceCondition> | undefined;
  sliceAware?:
    | boolean
    | ({ slices?: string[] | undefined; expert?: { kind: string } | undefined } & Omit<
        SliceAwareOptions,
        'slices' | 'expert'
      >)
    | undefined;
}

/**
 * Each task's slice masks by split, evaluated on the data as read: call it before the sources are
 * scaled, so that a condition's numbers mean what the file says (rows keep their order).
 */
export function sliceMasksAsRead(
  tasks: Readonly<Record<string, SlicedTask>>,
  sources: Readonly<Record<string, LoadedSource>>,
): Record<string, Record<string, SliceRowMasks>> {
  const out: Record<string, Record<string, SliceRowMasks>> = {};
  for (const [name, task] of Object.entries(tasks)) {
    if (task.slices === undefined) continue;
    const data = resolveTaskData(name, task, sources);
    out[name] = splitSliceMasks(data.splits, task.slices, `tasks.${name}.slices`);
  }
  return out;
}

/** The slice-aware options of a task's config, its slice names checked against its `slices`. */
export function sliceAwareOptions(name: string, task: SlicedTask): SliceAwareOptions | undefined {
  const aware = task.sliceAware;
  if (aware === undefined || aware === false) return undefined;
  const place = `tasks.${name}.sliceAware`;
  const declared = Object.keys(task.slices ?? {});
  if (declared.length === 0) {
    throw new MtlError(
      'CONFIG_INVALID',
      `a slice-aware task needs slices: declare them in tasks.${name}.slices`,
      {
        place,
      },
    );
  }
  if (aware === true) return { slices: declared };
  const { slices = declared, expert, ...rest } = aware;
  slices.forEach((s, i) => {
    if (!declared.includes(s)) {
      throw new MtlError(
        'CONFIG_INVALID',
        `no slice "${s}" in tasks.${name}.slices (slices: ${listNames(declared)})`,
        {
          place: `${place}.slices[${i}]`,
        },
      );
    }
  });
  const options: SliceAwareOptions = { slices };
  if (expert !== undefined) {
    // `lr` is the Trainer's option of a pooled module, not an expert's.
    const { lr: _lr, ...config } = expert as { kind: string; lr?: number };
    options.expert = config;
  }
  for (const [k, v] of Object.entries(rest))
    if (v !== undefined) (options as unknown as Record<string, unknown>)[k] = v;
  return options;
}

/**
 * The task data with each task's slices: scored per slice, and for a slice-aware task the slice
 * labels and the indicator and predictor tasks' data (@mtl/tasks' withSliceLabels).
 */
export function withSlices(
  taskData: Record<string, TaskData>,
  tasks: Readonly<Record<string, SlicedTask>>,
  masks: Readonly<Record<string, Record<string, SliceRowMasks>>>,
): Record<string, TaskData> {
  let out = taskData;
  for (const [name, byName] of Object.entries(masks)) {
    const aware = sliceAwareOptions(name, tasks[name]!);
    if (aware === undefined) {
      out = { ...out, [name]: { ...out[name]!, slices: byName } };
      continue;
    }
    const chosen = Object.fromEntries(
      Object.entries(byName).map(([split, m]) => [
        split,
        Object.fromEntries(aware.slices.map((s) => [s, m[s]!])),
      ]),
    );
    out = withSliceLabels(out, name, chosen);
    // Every declared slice is scored, the slice-aware ones and the others.
    out[name] = { ...out[name]!, slices: byName };
  }
  return out;
}

/** The multitask entries as @mtl/tasks' builder reads them (`sliceAware` as its options). */
export function multitaskEntries<T extends SlicedTask & Omit<MultitaskTaskEntry, 'sliceAware'>>(
  tasks: Readonly<Record<string, T>>,
): Record<string, MultitaskTaskEntry> {
  return Object.fromEntries(
    Object.entries(tasks).map(([name, task]) => {
      const { sliceAware: _s, slices: _l, ...rest } = task;
      const aware = sliceAwareOptions(name, task);
      return [name, aware === undefined ? rest : { ...rest, sliceAware: aware }];
    }),
  );
}
