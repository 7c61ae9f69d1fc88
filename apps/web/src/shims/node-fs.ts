// The app's modules import node:fs for run directories and CSV files; in the page those paths
// are never taken (the page's own code reads files through the browser), and a call that slips
// through says so instead of failing at import.
import { noFiles } from './no-files.js';

export const existsSync = (_path: string): boolean => false;
export const readFileSync = (path: string): never => noFiles(`read ${path}`);
export const readdirSync = (path: string): never => noFiles(`list ${path}`);
export const statSync = (path: string): never => noFiles(`stat ${path}`);
export const writeFileSync = (path: string): never => noFiles(`write ${path}`);
export const mkdirSync = (path: string): never => noFiles(`create ${path}`);
export const mkdtempSync = (path: string): never => noFiles(`create ${path}`);
export const rmSync = (path: string): never => noFiles(`remove ${path}`);
export const rmdirSync = (path: string): never => noFiles(`remove ${path}`);
export const cpSync = (path: string): never => noFiles(`copy ${path}`);
export default { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync, rmSync };
