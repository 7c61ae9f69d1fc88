import { mtlProject } from '../../vitest.shared.js';

const project = mtlProject('@mtl/web');
// The page has no native BLAS kernels: the Node runs it is compared with go without them too
// (set before the setup file picks the backend).
project.test = { ...project.test, env: { MTL_NATIVE: '0' } };
export default project;
