import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

/**
 * One definition for every package's vitest project: sibling packages are imported from their
 * TypeScript sources through the `source` export condition, so tests need no build.
 */
export function mtlProject(name: string, options: { tfjs?: boolean } = {}): UserWorkspaceConfig {
  const setupFiles =
    options.tfjs === false ? [] : [new URL('./tools/vitest-setup.ts', import.meta.url).pathname];
  return defineProject({
    resolve: { conditions: ['source', 'module', 'node', 'import', 'default'] },
    ssr: {
      resolve: {
        conditions: ['source', 'module', 'node', 'import', 'default'],
        externalConditions: ['source'],
      },
    },
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      setupFiles,
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  });
}
