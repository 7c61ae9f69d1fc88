import { listNames, MtlError } from '@mtl/core';
import { isGatedModule } from './internal/experts.js';
import type { Module } from './module.js';
import { CrossStitch } from './modules/cross-stitch.js';
import type { Task } from './task.js';

/**
 * The tasks a module keeps one output each for (mmoe, cgc, ple, dselect_k, cross_stitch: read as
 * `[op, task]`), or undefined for a module of one output.
 * @example
 * perTaskOutputs(mmoe({ tasks: ['a', 'b'], experts: 2 })); // ['a', 'b']
 */
export function perTaskOutputs(module: Module): readonly string[] | undefined {
  if (isGatedModule(module) || module instanceof CrossStitch)
    return (module as { tasks: readonly string[] }).tasks;
  return undefined;
}

/**
 * Checks that every task reads its own output of each per-task module it runs (`[op, <task>]`),
 * that such a module has an output for it, and that a module names no task the model lacks. Errors
 * name the task and operation (`place: task <t> opSequence[i] (<op>)`, details `{task, operation,
 * module, index}`) or the module (`place: module <m>`, details `{module, option: 'tasks'}`).
 * @example
 * checkPerTaskReads([taskA, taskB]); // throws UNKNOWN_TASK when task b reads [moe, c]
 */
export function checkPerTaskReads(tasks: readonly Task[]): void {
  const names = tasks.map((t) => t.name);
  for (const task of tasks) {
    const opModule = new Map(task.opSequence.map((op) => [op.name, op.moduleName]));
    task.opSequence.forEach((op, i) => {
      op.inputs.forEach((input) => {
        const source = typeof input === 'string' ? input : input[0];
        const moduleName = opModule.get(source);
        const module = moduleName === undefined ? undefined : task.modulePool.get(moduleName);
        const outputs = module === undefined ? undefined : perTaskOutputs(module);
        if (outputs === undefined) return;
        const where = {
          place: `task ${task.name} opSequence[${i}] (${op.name})`,
          details: { task: task.name, operation: op.name, module: moduleName, index: i },
        };
        if (!outputs.includes(task.name)) {
          throw new MtlError(
            'UNKNOWN_TASK',
            `module "${moduleName}" has no output for task ${task.name} (its tasks: ${listNames(outputs)}): add ${task.name} to its tasks`,
            where,
          );
        }
        if (typeof input === 'string') return; // reading the whole named output: shape inference says how
        const key = String(input[1]);
        if (!names.includes(key)) {
          throw new MtlError(
            'UNKNOWN_TASK',
            `reads "${source}.${key}", but there is no task ${key} (tasks: ${listNames(names)})`,
            where,
          );
        }
        if (key !== task.name) {
          throw new MtlError(
            'CONFIG_INVALID',
            `task ${task.name} reads the output of task ${key} ("${source}.${key}"); a task reads its own: "${source}.${task.name}"`,
            where,
          );
        }
      });
    });
  }
  const seen = new Set<Module>();
  for (const task of tasks) {
    for (const [name, module] of task.modulePool) {
      if (seen.has(module)) continue;
      seen.add(module);
      const unknown = (perTaskOutputs(module) ?? []).filter((t) => !names.includes(t));
      if (unknown.length > 0) {
        throw new MtlError(
          'UNKNOWN_TASK',
          `its tasks name ${listNames(unknown)}, which ${unknown.length === 1 ? 'is no task' : 'are no tasks'} of the model (tasks: ${listNames(names)})`,
          { place: `module ${name}`, details: { module: name, option: 'tasks' } },
        );
      }
    }
  }
}
