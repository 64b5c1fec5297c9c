/**
 * Node.js 20 only. undici parses HTTP with a WebAssembly module; V8 recompiles its hot functions with its
 * optimizing tier on background threads, and Node 20 waits for that before the process can exit: a one-file
 * upload takes about 1.7× as long (README, "Start-up"). Batches do not need the faster parser either: the
 * answers are a few hundred bytes, while the recompiling costs a 1,000-file batch some 0.25 s of CPU on threads
 * that compete with the uploads, and some 18 MB of memory (README, "Batches"). So this process keeps
 * WebAssembly at V8's baseline tier, set before the first request compiles the parser. Node 22 and newer do not
 * wait at exit, and a batch costs the same with and without the flag there (Node 26), so there nothing is set.
 */
export function keepWebAssemblyAtBaselineTier(): void {
  if (Number(process.versions.node.split('.')[0]) >= 22) return;
  // Loaded here, not at the top: node:v8 itself costs some 5 ms of a start on Node 26, where it is not needed.
  process.getBuiltinModule('node:v8').setFlagsFromString('--liftoff-only');
}
