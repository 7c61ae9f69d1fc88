// A path (`/run/model`, `/page/run-1/checkpoints`) is one of the page's files: how the app's
// code loads a chosen model and how the page keeps its checkpoints. Imported for its effect.
import { registerIOScheme } from '@mtl/core';
import { pageFileHandler } from './shims/page-files.js';

registerIOScheme('file', pageFileHandler);
