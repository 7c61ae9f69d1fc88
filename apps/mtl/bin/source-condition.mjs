// Module-resolution hook for running the CLI from its TypeScript sources inside the workspace:
// sibling @mtl packages resolve through their `source` export condition (src/index.ts).
export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions.includes('source')
    ? context.conditions
    : ['source', ...context.conditions];
  return nextResolve(specifier, { ...context, conditions });
}
