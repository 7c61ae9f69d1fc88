import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { MtlError } from '@mtl/core';
import { parseDocument } from 'yaml';
import type { z } from 'zod';

/** Keys that could reach an object's prototype: refused anywhere in a config or a `--set`. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Formats a config path like `tasks.square_task.ops[1]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Throws CONFIG_INVALID when a forbidden key appears anywhere in `value`. */
export function rejectForbiddenKeys(value: unknown, place: string, path: PropertyKey[] = []): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) rejectForbiddenKeys(value[i], place, [...path, i]);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) {
      throw new MtlError('CONFIG_INVALID', `key "${key}" is not allowed`, {
        place: `${place}: ${formatPath([...path, key])}`,
      });
    }
    rejectForbiddenKeys((value as Record<string, unknown>)[key], place, [...path, key]);
  }
}

/**
 * Parses YAML or JSON text into plain data; a key given twice in one mapping is an error. Anchors/aliases are resolved by the yaml library with its alias-count limit, so a
 * "billion laughs" document is refused rather than expanded.
 */
export function parseConfigText(text: string, file: string): unknown {
  // JSON goes through the YAML parser too (JSON is YAML 1.2): JSON.parse would silently keep the
  // last of two keys with one name, and a name declared twice must be an error.
  const isJson = extname(file).toLowerCase() === '.json';
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, merge: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const where = err.linePos?.[0] ? `${file}:${err.linePos[0].line}:${err.linePos[0].col}` : file;
    throw new MtlError('CONFIG_PARSE', `invalid ${isJson ? 'JSON' : 'YAML'}: ${err.message.split('\n')[0]}`, {
      place: where,
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new MtlError('CONFIG_PARSE', `invalid ${isJson ? 'JSON' : 'YAML'}: ${(e as Error).message}`, {
      place: file,
    });
  }
  if (data === null || data === undefined) {
    throw new MtlError('CONFIG_INVALID', 'the config is empty', { place: file });
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new MtlError(
      'CONFIG_INVALID',
      'the config must be a mapping of sections (seed, data, modules, tasks, ...)',
      {
        place: file,
      },
    );
  }
  rejectForbiddenKeys(data, file);
  return data;
}

/** Reads and parses a config file (YAML or JSON). */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new MtlError(
      code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_READ',
      code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}`,
      { place: file },
    );
  }
  return parseConfigText(text, file);
}

/**
 * Applies `--set a.b.c=value` overrides to parsed config data (in place). Values are parsed as
 * YAML scalars/flow collections, so `3`, `true`, `0.5`, `[8, 4]` and `{a: 1}` have their natural types.
 * Path segments that are integers index arrays.
 */
export function applySetOverrides(data: Record<string, unknown>, overrides: readonly string[]): void {
  for (const override of overrides) {
    const place = `--set ${override}`;
    const eq = override.indexOf('=');
    if (eq <= 0)
      throw new MtlError('CONFIG_INVALID', 'expected PATH=VALUE, e.g. training.epochs=20', { place });
    const path = override.slice(0, eq).split('.');
    if (path.some((p) => p === ''))
      throw new MtlError('CONFIG_INVALID', 'empty segment in the path', { place });
    for (const p of path) {
      if (FORBIDDEN_KEYS.has(p)) throw new MtlError('CONFIG_INVALID', `key "${p}" is not allowed`, { place });
    }
    const raw = override.slice(eq + 1);
    const doc = parseDocument(raw === '' ? '""' : raw);
    if (doc.errors.length > 0) {
      throw new MtlError(
        'CONFIG_INVALID',
        `cannot parse the value: ${doc.errors[0]!.message.split('\n')[0]}`,
        { place },
      );
    }
    const value: unknown = doc.toJS({ maxAliasCount: 10 });
    rejectForbiddenKeys(value, place);
    let node: unknown = data;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i]!;
      const container = node as Record<string, unknown> | unknown[];
      let next: unknown = Array.isArray(container) ? container[Number(key)] : container[key];
      if (next === undefined) {
        next = {};
        if (Array.isArray(container)) {
          throw new MtlError('CONFIG_INVALID', `no element ${key} in ${formatPath(path.slice(0, i))}`, {
            place,
          });
        }
        container[key] = next;
      }
      if (next === null || typeof next !== 'object') {
        throw new MtlError(
          'CONFIG_INVALID',
          `${formatPath(path.slice(0, i + 1))} is a ${next === null ? 'null' : typeof next}, not a section`,
          { place },
        );
      }
      node = next;
    }
    const last = path[path.length - 1]!;
    if (Array.isArray(node)) {
      const idx = Number(last);
      if (!Number.isInteger(idx) || idx < 0 || idx > node.length) {
        throw new MtlError('CONFIG_INVALID', `"${last}" is not an index of a list of ${node.length}`, {
          place,
        });
      }
      node[idx] = value;
    } else {
      (node as Record<string, unknown>)[last] = value;
    }
  }
}

/**
 * Validates parsed data against a zod schema; the first problems become one CONFIG_INVALID error
 * whose message names the config paths (`tasks.square_task.ops[1]: ...`).
 */
export function validateWithSchema<S extends z.ZodType>(schema: S, data: unknown, file: string): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const lines = result.error.issues.slice(0, 5).map((issue) => {
    let message = issue.message;
    let path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    const method = weightingMethodAt(data, path);
    if (method !== undefined) {
      // Each method has its own options: say whose they are, and name the one option.
      message += ` (weighting method ${method})`;
      if (issue.code === 'unrecognized_keys' && issue.keys.length === 1) path = [...path, issue.keys[0]!];
    }
    return `${formatPath(path)}: ${message}`;
  });
  const more = result.error.issues.length > 5 ? `\n  (and ${result.error.issues.length - 5} more)` : '';
  const first = result.error.issues[0]!;
  throw new MtlError('CONFIG_INVALID', lines.join('\n  ') + more, {
    place: file,
    details: { path: formatPath(first.path), issues: result.error.issues.length },
  });
}

/** The `method` of the `training.weighting` block an issue path points into (not at its `method`). */
function weightingMethodAt(data: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path[0] !== 'training' || path[1] !== 'weighting' || path[2] === 'method') return undefined;
  const block = (data as { training?: { weighting?: { method?: unknown } } })?.training?.weighting;
  return typeof block?.method === 'string' ? block.method : undefined;
}
