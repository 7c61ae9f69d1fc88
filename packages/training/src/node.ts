// @mtl/training/node: the Node-only part of training (the metrics file). The main entry stays browser-safe.
export { JsonlMetricsLogger, readMetricsJsonl } from './metrics-log.js';
