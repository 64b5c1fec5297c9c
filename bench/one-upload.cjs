'use strict';
/**
 * The least a one-file upload can do, for the start-up benchmark's reference rows (bench/startup.mjs):
 *   node bench/one-upload.cjs http|undici <file>
 * reads the file, sends it with the credentials as one multipart POST to $LINKFACE_ENDPOINT, and prints the
 * liveness_data_id: no settings, no checks, no retries, no output rules. `http` uses Node's own node:http;
 * `undici` uses undici's `request` from its index, as a hand-written script would; `undici-parts` loads only
 * the parts of undici linkface loads (its agent and `request`, src/api/dispatcher.ts), and is meant to run
 * bundled, as linkface does: bench/startup.mjs bundles this file with esbuild and runs it with Node's compile
 * cache, which makes it the floor under any client built on undici.
 */
const { readFileSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const { basename, join } = require('node:path');

const [client, file] = process.argv.slice(2);
const url = new URL('/resources/upload_liveness_data', process.env.LINKFACE_ENDPOINT);
const boundary = `----linkface${randomBytes(12).toString('hex')}`;
const field = (name, value) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const body = Buffer.concat([
  Buffer.from(
    field('api_id', process.env.LINKFACE_API_ID) +
      field('api_secret', process.env.LINKFACE_API_SECRET) +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${basename(file)}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  ),
  readFileSync(file),
  Buffer.from(`\r\n--${boundary}--\r\n`),
]);
const headers = { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length) };

function printId(text) {
  const answer = JSON.parse(text);
  if (answer.status !== 'OK') throw new Error(`upload failed: ${text}`);
  process.stdout.write(`${answer.liveness_data_id}\n`);
}

if (client === 'http') {
  const request = require('node:http').request(url, { method: 'POST', headers }, (response) => {
    let text = '';
    response.setEncoding('utf8').on('data', (chunk) => (text += chunk)).on('end', () => printId(text));
  });
  request.end(body);
} else if (client === 'undici') {
  const { request } = require(join(__dirname, '..', 'node_modules', 'undici'));
  request(url, { method: 'POST', headers, body }).then(async (response) => printId(await response.body.text()));
} else if (client === 'undici-parts') {
  const Agent = require('undici/lib/dispatcher/agent.js');
  const api = require('undici/lib/api/index.js');
  const agent = new Agent({ connections: 1 });
  api.request
    .call(agent, { origin: url.origin, path: url.pathname, method: 'POST', headers, body })
    .then(async (response) => printId(await response.body.text()))
    .finally(() => agent.close());
} else {
  throw new Error(`usage: node bench/one-upload.cjs http|undici|undici-parts <file>`);
}
