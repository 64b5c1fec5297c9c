/** Types for scripts/exe/macho.mjs, which test/e2e/exe-targets.test.ts checks against llvm-objcopy. */
export declare function signAdHoc(input: Buffer, identifier: string): Buffer;
