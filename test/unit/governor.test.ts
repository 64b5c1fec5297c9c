import { describe, expect, it } from 'vitest';
import { MIN_RATE, RateGovernor } from '../../src/engine/governor.js';

/** A governor on a clock the test moves by hand. */
function governed(max: number) {
  let now = 0;
  const governor = new RateGovernor(max, () => now);
  return {
    governor,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('RateGovernor', () => {
  it('runs unpaced at the configured concurrency until the server pushes back', async () => {
    const { governor } = governed(4);
    for (let i = 0; i < 4; i++) expect(await governor.acquire()).toBe(true);
    expect(governor.state).toMatchObject({ inFlight: 4, limit: 4, rate: undefined });
    expect(governor.startDelay()).toBe(0);
    let fifth = false;
    const waiting = governor.acquire().then((ok) => {
      fifth = ok;
    });
    await Promise.resolve();
    expect(fifth).toBe(false);
    governor.release('ok');
    await waiting;
    expect(fifth).toBe(true);
  });

  it('on RATE_LIMIT_EXCEEDED: paces at 70% of what got through, cuts the in-flight limit, waits one step of the pace', () => {
    const { governor, advance } = governed(10);
    for (let i = 0; i < 20; i++) {
      governor.take();
      advance(100);
      governor.release('ok');
    }
    governor.take();
    governor.release('rate-limited');
    const state = governor.state;
    // 20 successes over the 1.9 s since the first of them got through.
    expect(state.rate).toBeCloseTo((0.7 * 20) / 1.9, 5);
    expect(state.limit).toBe(7);
    expect(governor.startDelay()).toBeCloseTo(1000 / (state.rate as number), 5);
  });

  it("does not hold every slot for a refusal's Retry-After: refusals one after another cost one pace step each", () => {
    const { governor, advance } = governed(4);
    // The server refuses each request, asking each time to wait 3 s: the batch slows to MIN_RATE, it does not
    // stop for 3 s per refusal (the refused inputs themselves wait their Retry-After before their retry).
    let previous = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 10; i++) {
      governor.take();
      governor.release('rate-limited');
      const { rate } = governor.state;
      expect(rate).toBeLessThanOrEqual(previous);
      previous = rate as number;
      expect(governor.startDelay()).toBeLessThanOrEqual(1000 / MIN_RATE);
      advance(governor.startDelay() + 1100);
    }
    expect(governor.state.rate).toBe(MIN_RATE);
  });

  it('counts a burst of refusals to requests already in flight as one signal', () => {
    const { governor, advance } = governed(8);
    for (let i = 0; i < 10; i++) {
      governor.take();
      advance(100);
      governor.release('ok');
    }
    for (let i = 0; i < 5; i++) governor.take();
    governor.release('rate-limited');
    const afterFirst = governor.state.rate;
    advance(50);
    for (let i = 0; i < 4; i++) governor.release('rate-limited');
    expect(governor.state.rate).toBe(afterFirst);
    advance(2000);
    governor.take();
    governor.release('rate-limited');
    expect(governor.state.rate).toBeLessThan(afterFirst as number);
  });

  it('spaces starts by the pace, and speeds back up as calls succeed', () => {
    const { governor, advance } = governed(4);
    governor.take();
    governor.release('rate-limited');
    const paced = governor.state.rate as number;
    // Nothing got through before: the cut starts from the in-flight limit taken as a rate a second.
    expect(paced).toBeCloseTo(0.7 * 4, 5);
    expect(governor.startDelay()).toBeCloseTo(1000 / paced, 5);
    advance(governor.startDelay());
    governor.take();
    expect(governor.startDelay()).toBeCloseTo(1000 / paced, 5);
    advance(2000);
    for (let i = 0; i < 50; i++) {
      governor.take();
      governor.release('ok');
    }
    expect(governor.state.rate).toBeGreaterThan(paced * 1.1);
    expect(governor.state.limit).toBe(4);
  });

  it('never goes below one in flight or MIN_RATE', () => {
    const { governor, advance } = governed(2);
    for (let i = 0; i < 20; i++) {
      governor.take();
      governor.release('rate-limited');
      advance(1500);
    }
    expect(governor.state.limit).toBe(1);
    expect(governor.state.rate).toBe(MIN_RATE);
  });

  it('gives up waiting when the batch stops', async () => {
    const { governor } = governed(1);
    await governor.acquire();
    const stop = new AbortController();
    const waiting = governor.acquire(stop.signal);
    stop.abort();
    expect(await waiting).toBe(false);
    expect(governor.state.inFlight).toBe(1);
  });
});
