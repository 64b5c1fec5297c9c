import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseShard } from '../../src/inputs/shard.js';

describe('--shard auto', () => {
  it.each([
    ['GitLab (1-based)', { CI_NODE_INDEX: '2', CI_NODE_TOTAL: '4' }, { index: 2, count: 4 }],
    ['CircleCI (0-based)', { CIRCLE_NODE_INDEX: '0', CIRCLE_NODE_TOTAL: '3' }, { index: 1, count: 3 }],
    ['Buildkite (0-based)', { BUILDKITE_PARALLEL_JOB: '4', BUILDKITE_PARALLEL_JOB_COUNT: '5' }, { index: 5, count: 5 }],
    ['a Kubernetes Indexed Job', { JOB_COMPLETION_INDEX: '3', LINKFACE_SHARD_COUNT: '8' }, { index: 4, count: 8 }],
  ])('reads %s', (_name, env, shard) => {
    expect(parseShard('auto', env)).toEqual(shard);
  });

  it('names every system it knows when none is set', () => {
    const error = (() => {
      try {
        parseShard('auto', {});
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect(error?.message).toMatch(/no CI shard variables/);
    expect(error?.details.join('\n')).toMatch(/CI_NODE_INDEX.*\n.*CIRCLE_NODE_INDEX.*\n.*BUILDKITE_PARALLEL_JOB.*\n.*JOB_COMPLETION_INDEX.*LINKFACE_SHARD_COUNT/);
  });

  it.each([
    ['an index past the count', { CI_NODE_INDEX: '5', CI_NODE_TOTAL: '4' }],
    ['a 0 where GitLab counts from 1', { CI_NODE_INDEX: '0', CI_NODE_TOTAL: '4' }],
    ['a Kubernetes index without LINKFACE_SHARD_COUNT', { JOB_COMPLETION_INDEX: '0' }],
    ['words', { CIRCLE_NODE_INDEX: 'one', CIRCLE_NODE_TOTAL: 'two' }],
  ])('refuses %s', (_name, env) => {
    expect(() => parseShard('auto', env)).toThrow(/do not name a shard/);
  });
});
