import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { optionProblem } from '../../src/sandbox/options.js';

/** One rule per numeric option, used by `startSandbox` and by `linkface sandbox`'s flags alike. */
describe('sandbox options', () => {
  it.each([
    ['port', 65535, undefined],
    ['port', 65536, 'must be a whole number from 0 to 65535'],
    ['latencyMs', 0, undefined],
    ['latencyMs', 2.5, 'must be a whole number from 0 to 600000'],
    ['failRate', 1, undefined],
    ['failRate', 1.5, 'must be a number from 0 to 1'],
    ['resetRate', Number.NaN, 'must be a number from 0 to 1'],
    ['rateLimit', 0.5, undefined],
    ['rateLimit', 0, 'must be a number above 0'],
    ['downloadTimeoutMs', -1, 'must be a number above 0'],
    ['maxFileBytes', 1.5, 'must be a whole number above 0'],
  ] as const)('%s = %s: %s', (name, value, problem) => {
    expect(optionProblem(name, value)).toBe(problem);
  });

  it('makes startSandbox refuse a bad value with a UsageError naming the option, before it listens', async () => {
    const refused = startSandbox({ failRate: 2 });
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toThrow('sandbox option failRate must be a number from 0 to 1, got 2');
  });
});
