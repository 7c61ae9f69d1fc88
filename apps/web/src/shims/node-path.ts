// POSIX path functions for the app's modules in a page (config-relative paths, run folders).
export const sep = '/';

/** `a/./b/../c` -> `a/c`; POSIX only. */
export function normalizePath(path: string): string {
  const abs = path.startsWith('/');
  const out: string[] = [];
  for (const part of path.split(sep)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
    } else out.push(part);
  }
  const joined = out.join('/');
  return abs ? `/${joined}` : joined || '.';
}

export const isAbsolute = (path: string): boolean => path.startsWith('/');
export const join = (...parts: string[]): string => normalizePath(parts.filter((p) => p !== '').join('/'));
export function resolve(...parts: string[]): string {
  let path = '';
  for (const p of parts) path = isAbsolute(p) ? p : path === '' ? p : `${path}/${p}`;
  return normalizePath(isAbsolute(path) ? path : `/${path}`);
}
export function dirname(path: string): string {
  const n = normalizePath(path);
  const at = n.lastIndexOf('/');
  return at < 0 ? '.' : at === 0 ? '/' : n.slice(0, at);
}
export function basename(path: string, ext?: string): string {
  const base = normalizePath(path).split(sep).pop() ?? '';
  return ext !== undefined && base.endsWith(ext) ? base.slice(0, -ext.length) : base;
}
export function extname(path: string): string {
  const base = basename(path);
  const at = base.lastIndexOf('.');
  return at <= 0 ? '' : base.slice(at);
}
export function relative(from: string, to: string): string {
  const a = resolve(from).split(sep).filter(Boolean);
  const b = resolve(to).split(sep).filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/');
}
export default { sep, isAbsolute, join, resolve, dirname, basename, extname, relative };
