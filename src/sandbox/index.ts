/**
 * A local emulator of `POST /resources/upload_liveness_data` (see shared api/README.md), for the project's
 * tests and for users' CI. It is a contract emulator: it checks what the real endpoint documents
 * (credentials in the form or the query string, file/url exclusivity, the 5 MiB limit, the url download
 * with its 5 s limit, UTF-8 parameters) and accepts any other non-empty content; it does not judge liveness.
 *
 * Trigger content: a file, or the content behind a `url`, whose bytes start with
 * `LINKFACE-SANDBOX-STATUS:<CODE>` (optionally followed by a newline and anything) is answered with that
 * code, one of the 12 the endpoint documents, and its documented HTTP status, e.g.
 * `printf 'LINKFACE-SANDBOX-STATUS:OUT_OF_QUOTA\n' > quota.bin` gives 403 OUT_OF_QUOTA. An unknown code
 * gives INVALID_ARGUMENT naming the valid ones.
 *
 * Faults for testing clients (latency, 500s, rate limiting, dropped connections, scripted answers) are
 * options of `startSandbox` and methods of the `Sandbox` it returns; so is https (`tls`), to test a client
 * against a private certificate authority.
 */
export { startSandbox } from './server.js';
export type { ReceivedRequest, Sandbox, SandboxOptions, ScriptedResponse } from './types.js';
