/** The project (a tsconfig.build.json path) and every project it references, transitively. */
export function buildProjects(tsconfig: string): string[];
/** The projects among `tsconfig` and its references whose dist/ is missing or older than a source. */
export function staleProjects(tsconfig: string): string[];
/** Whether a bundle of the built JavaScript is at least as new as the build of `tsconfig` and its references. */
export function bundleIsFresh(bundle: string, tsconfig: string): boolean;
