/**
 * Strings kept outside the JavaScript heap, packed end to end in chunks of bytes: a batch's input names, which
 * must all be known (every input is checked before anything is sent) but are each read once or twice. As
 * JavaScript strings in an array (made by joining and normalizing paths, so often in pieces), 100,000 names
 * held some 10 MB of heap, and V8 lets a heap grow to about four times what it holds before collecting it. Packed, they take what their
 * bytes take. Exact for every string: a name is stored as Latin-1 when every code unit fits in a byte, as
 * UTF-16 otherwise (lone surrogates included).
 */
export class PackedStrings implements Iterable<string> {
  private static readonly CHUNK_BYTES = 1 << 20;
  /** A name longer than this stays a string of its own (an unusually long URL, say). */
  private static readonly LONG = 1 << 12;
  private readonly chunks: Buffer[] = [];
  private used = PackedStrings.CHUNK_BYTES;
  /** Per string: chunk index × CHUNK_BYTES + offset; negative for a long string, kept in `long`. */
  private starts = new Float64Array(1024);
  /** Per string: its length in bytes, negative when stored as UTF-16. */
  private lengths = new Int32Array(1024);
  private readonly long = new Map<number, string>();
  length = 0;

  push(text: string): void {
    if (this.length === this.starts.length) this.grow();
    const index = this.length++;
    const wide = /[^\x00-\xff]/.test(text);
    const bytes = wide ? text.length * 2 : text.length;
    if (bytes > PackedStrings.LONG) {
      this.long.set(index, text);
      this.starts[index] = -1;
      return;
    }
    if (this.used + bytes > PackedStrings.CHUNK_BYTES) {
      this.chunks.push(Buffer.allocUnsafeSlow(PackedStrings.CHUNK_BYTES));
      this.used = 0;
    }
    const chunk = this.chunks.length - 1;
    (this.chunks[chunk] as Buffer).write(text, this.used, bytes, wide ? 'utf16le' : 'latin1');
    this.starts[index] = chunk * PackedStrings.CHUNK_BYTES + this.used;
    this.lengths[index] = wide ? -bytes : bytes;
    this.used += bytes;
  }

  at(index: number): string {
    const start = this.starts[index] as number;
    if (start < 0) return this.long.get(index) as string;
    const chunk = this.chunks[Math.floor(start / PackedStrings.CHUNK_BYTES)] as Buffer;
    const offset = start % PackedStrings.CHUNK_BYTES;
    const length = this.lengths[index] as number;
    return length < 0 ? chunk.toString('utf16le', offset, offset - length) : chunk.toString('latin1', offset, offset + length);
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  /** The strings as a read-only array (see readOnlyArray). */
  asArray(): readonly string[] {
    return readOnlyArray(this);
  }

  private grow(): void {
    const starts = new Float64Array(this.starts.length * 2);
    starts.set(this.starts);
    this.starts = starts;
    const lengths = new Int32Array(this.lengths.length * 2);
    lengths.set(this.lengths);
    this.lengths = lengths;
  }
}

/**
 * A read-only array over a list that makes its items as they are read, for callers that take an array:
 * indexing, `length`, iteration and every array method work; writes are refused (TypeError in strict code).
 */
export function readOnlyArray<T>(list: { readonly length: number; at(index: number): T; [Symbol.iterator](): Iterator<T> }): readonly T[] {
  const indexOf = (key: string | symbol): number | undefined => {
    if (typeof key !== 'string' || key === '' || key.length > 10) return undefined;
    const index = Number(key);
    return Number.isInteger(index) && index >= 0 && String(index) === key ? index : undefined;
  };
  return new Proxy<T[]>([], {
    get(target, key, receiver) {
      if (key === 'length') return list.length;
      if (key === Symbol.iterator || key === 'values') return () => list[Symbol.iterator]();
      const index = indexOf(key);
      if (index !== undefined) return index < list.length ? list.at(index) : undefined;
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      const index = indexOf(key);
      return index !== undefined ? index < list.length : Reflect.has(target, key);
    },
    ownKeys(target) {
      return [...Array.from({ length: list.length }, (_, i) => String(i)), ...Reflect.ownKeys(target)];
    },
    getOwnPropertyDescriptor(target, key) {
      const index = indexOf(key);
      if (index !== undefined) {
        return index < list.length ? { value: list.at(index), writable: false, enumerable: true, configurable: true } : undefined;
      }
      const own = Reflect.getOwnPropertyDescriptor(target, key);
      return key === 'length' && own ? { ...own, value: list.length } : own;
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}
