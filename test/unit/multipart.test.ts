import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileChangedError, multipartBody } from '../../src/api/multipart.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'linkface-multipart-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(body: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Parses the body the way a server does, through the WHATWG FormData parser. */
async function parse(contentType: string, body: Buffer): Promise<FormData> {
  return new Response(body, { headers: { 'content-type': contentType } }).formData();
}

const credentials = [
  ['api_id', 'id'],
  ['api_secret', 'secret'],
] as const;

describe('multipartBody', () => {
  it('writes the credentials and the file, with an exact Content-Length', async () => {
    // The name sent is given apart from the path: NTFS forbids quotes and newlines in the file's own name.
    const path = join(dir, 'quoted-name.bin');
    writeFileSync(path, Buffer.from([0, 1, 2, 255]));
    const form = multipartBody(credentials, { kind: 'file', path, filename: 'a "quoted"\nname.bin', bytes: 4 });
    const bytes = await collect(form.body());
    expect(bytes.length).toBe(form.contentLength);
    const parsed = await parse(form.contentType, bytes);
    expect(parsed.get('api_id')).toBe('id');
    expect(parsed.get('api_secret')).toBe('secret');
    const file = parsed.get('file') as File;
    // Quotes and newlines are percent-encoded on the wire, as browsers do; parsers decode them back.
    expect(bytes.toString('latin1')).toContain('filename="a %22quoted%22%0Aname.bin"');
    expect(file.name).toBe('a "quoted"\nname.bin');
    expect(Buffer.from(await file.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('sends a URL as the url field, and bytes from memory as the file', async () => {
    const url = multipartBody(credentials, { kind: 'url', url: 'https://x.example/%E6%B4%BB.bin' });
    const parsedUrl = await parse(url.contentType, await collect(url.body()));
    expect(parsedUrl.get('url')).toBe('https://x.example/%E6%B4%BB.bin');
    expect(parsedUrl.get('file')).toBeNull();
    const bytes = multipartBody(credentials, { kind: 'bytes', data: Buffer.from('stdin bytes'), filename: 'stdin' });
    const body = await collect(bytes.body());
    expect(body.length).toBe(bytes.contentLength);
    expect(await ((await parse(bytes.contentType, body)).get('file') as File).text()).toBe('stdin bytes');
  });

  it('gives a fresh body for each attempt', async () => {
    const path = join(dir, 'again.bin');
    writeFileSync(path, 'again');
    const form = multipartBody(credentials, { kind: 'file', path, filename: 'again.bin', bytes: 5 });
    expect(await collect(form.body())).toEqual(await collect(form.body()));
  });

  it.each([
    ['grew', (path: string) => appendFileSync(path, 'more'), /grew/],
    ['shrank', (path: string) => truncateSync(path, 2), /shrank/],
  ])('refuses to send a file that %s after it was checked', async (_name, change, message) => {
    const path = join(dir, `changing-${_name}.bin`);
    writeFileSync(path, 'checked');
    const form = multipartBody(credentials, { kind: 'file', path, filename: 'x', bytes: 7 });
    change(path);
    const error = await collect(form.body()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileChangedError);
    expect((error as Error).message).toMatch(message);
  });
});
