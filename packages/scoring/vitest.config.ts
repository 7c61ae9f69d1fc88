import { mtlProject } from '../../vitest.shared.js';

// No tfjs: scoring works on plain and typed arrays only.
export default mtlProject('@mtl/scoring', { tfjs: false });
