/** Types for scripts/exe/pe.mjs, which test/e2e/exe-targets.test.ts checks against osslsigncode. */
export declare function removeSignature(bytes: Buffer): Buffer;
