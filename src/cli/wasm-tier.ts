/** Up to this many uploads, a quick exit matters more than the fastest HTTP parser. */
const FEW_UPLOADS = 32;

/**
 * Node.js 20 only. undici parses HTTP with a WebAssembly module; V8 recompiles it with its optimizing tier in the
 * background, and Node 20 waits for that before the process can exit: a one-file upload takes about 1.7× as long
 * (README, "Start-up"). For a few uploads, this process keeps WebAssembly at V8's baseline tier, set before the
 * first request compiles the parser; large batches keep the faster parser. Node 22 and newer do not wait
 * (measured 0.99–1.03× with the flag), so there nothing is set.
 */
export function keepWebAssemblyAtBaselineTierForFewUploads(uploads: number): void {
  if (uploads > FEW_UPLOADS || Number(process.versions.node.split('.')[0]) >= 22) return;
  // Loaded here, not at the top: node:v8 itself costs some 5 ms of a start on Node 26, where it is not needed.
  process.getBuiltinModule('node:v8').setFlagsFromString('--liftoff-only');
}
