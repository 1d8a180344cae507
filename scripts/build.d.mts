// Types of scripts/build.mjs, for the TypeScript that imports it (e2e/global-setup.ts).
export declare const LIBRARY_FOLDERS: readonly string[];
export declare function libraryBuildIsFresh(): boolean;
export declare function ensureLibraryBuilt(options?: { log?: (line: string) => void }): boolean;
export declare function buildLibrary(options?: { log?: (line: string) => void }): void;
