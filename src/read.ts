/**
 * A body read whole, or undefined as soon as it grows past `maxBytes`: the rest is not read, and leaving the
 * loop early destroys a stream (an answer much larger than any the API sends, a download past the limit).
 */
export async function readAtMost(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
