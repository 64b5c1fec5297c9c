/** Types for the part of scripts/node-runtimes.mjs that test/e2e/exe-targets.test.ts uses. */
export declare function fetchNodeBinary(pinned: { package: string; version: string; integrity: string; binary: string }): Promise<string>;
