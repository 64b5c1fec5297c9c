import { describe, expect, it } from 'vitest';
import { jsonLine, redactorFor, shown, unprintableId, withoutControls } from '../../src/untrusted.js';

describe('shown: untrusted text in a line of output', () => {
  it.each([
    ['a newline and a tab', 'id-1\nFORGED\tline', 'id-1\\nFORGED\\tline'],
    ['a carriage return', 'real\rfake', 'real\\rfake'],
    ['ESC sequences (clear screen, window title)', '\u001b[2J\u001b]0;pwned\u0007', '\\x1b[2J\\x1b]0;pwned\\x07'],
    ['NUL, backspace, DEL', 'a\u0000b\bc\u007f', 'a\\x00b\\x08c\\x7f'],
    ['C1 controls (8-bit CSI)', 'x\u009b2J', 'x\\x9b2J'],
    ['Unicode line separators and bidi overrides', 'a\u2028b\u202ec\u2066', 'a\\u2028b\\u202ec\\u2066'],
    ['a backslash, so the escapes stay unambiguous', 'C:\\temp\\n', 'C:\\\\temp\\\\n'],
    ['plain text, accents and CJK untouched', 'café 活体.bin', 'café 活体.bin'],
  ])('escapes %s', (_name, raw, expected) => {
    expect(shown(raw)).toBe(expected);
    expect(shown(raw)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  });

  it('withoutControls keeps backslashes (paths in messages) and escapes the rest', () => {
    expect(withoutControls('C:\\x\n\u001b[2J')).toBe('C:\\x\\n\\x1b[2J');
  });
});

describe('unprintableId', () => {
  it.each(['id-1\nFORGED', 'a\tb', '\u001b[2J', 'x\u202e', 'a\u0000'])('refuses %j (control characters)', (id) => {
    expect(unprintableId(id)).toMatch(/control characters/);
  });
  it.each([' ', '   ', '\u00a0', '\u3000'])('refuses %j (only white space)', (id) => {
    expect(unprintableId(id)).toMatch(/white space/);
  });
  it.each(['0123abcd', 'id with spaces', 'a\\b', '活体-1'])('accepts %j', (id) => {
    expect(unprintableId(id)).toBeUndefined();
  });
});

describe('jsonLine', () => {
  it('keeps exact values and writes nothing a terminal would act on', () => {
    const record = { input: 'x\ny', reason: '\u001b[2J\u009b\u2028\u202e\u007f' };
    const line = jsonLine(record);
    expect(JSON.parse(line)).toEqual(record);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  });

  it('redacts each string value on its own, never the keys', () => {
    const redact = redactorFor(['a']);
    expect(JSON.parse(jsonLine({ status: 'a', reason: 'banana', attempts: 1 }, redact))).toEqual({ status: '***', reason: 'b***n***n***', attempts: 1 });
  });
});

describe('redactorFor', () => {
  it.each([
    ['one character', 'Q', 'Q is here: xQx', '*** is here: x***x'],
    ['four characters', 'k3y!', 'said k3y!k3y!', 'said ******'],
    ['64 characters', 'S'.repeat(64), `x${'S'.repeat(64)}y`, 'x***y'],
  ])('replaces a secret of %s wherever it appears', (_name, secret, text, expected) => {
    expect(redactorFor([secret])(text)).toBe(expected);
  });

  it('replaces a secret that holds another one whole', () => {
    expect(redactorFor(['abc', 'abcdef'])('xabcdefx')).toBe('x***x');
  });

  it('ignores missing and empty secrets', () => {
    expect(redactorFor([undefined, ''])('text')).toBe('text');
  });
});
