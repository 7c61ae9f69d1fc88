import { mtlProject } from '../../vitest.shared.js';

export default mtlProject('@mtl/web');
