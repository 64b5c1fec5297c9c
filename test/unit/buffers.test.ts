import { describe, expect, it } from 'vitest';
import { FileBufferPool } from '../../src/inputs/buffers.js';

describe('FileBufferPool', () => {
  it('hands out views of a slab, and the same slab again once it is given back', () => {
    const pool = new FileBufferPool(1024);
    const a = pool.take(100);
    expect(a.length).toBe(100);
    expect(a.buffer.byteLength).toBe(1024);
    const b = pool.take(200);
    expect(b.buffer).not.toBe(a.buffer);
    pool.give(a);
    const c = pool.take(300);
    expect(c.buffer).toBe(a.buffer);
    expect(c.length).toBe(300);
  });

  it('never pools what it did not hand out, nor a slab twice', () => {
    const pool = new FileBufferPool(1024);
    const foreign = Buffer.alloc(1024);
    pool.give(foreign);
    expect(pool.take(10).buffer).not.toBe(foreign.buffer);
    const a = pool.take(10);
    pool.give(a);
    pool.give(a);
    const first = pool.take(10);
    const second = pool.take(10);
    expect(first.buffer).toBe(a.buffer);
    expect(second.buffer).not.toBe(a.buffer);
  });

  it('gives a buffer of its own for a size above the slab', () => {
    const pool = new FileBufferPool(1024);
    const big = pool.take(4096);
    expect(big.length).toBe(4096);
    pool.give(big);
    expect(pool.take(10).buffer).not.toBe(big.buffer);
  });
});
