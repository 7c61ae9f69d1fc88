/** The project (a tsconfig.build.json path) and every project it references, transitively. */
export function buildProjects(tsconfig: string): string[];
/** The projects among `tsconfig` and its references whose dist/ is missing or older than a source. */
export function staleProjects(tsconfig: string): string[];
