/**
 * The one rule for text linkface did not write itself — what a server answered, a file's name, a line of a
 * manifest: before it reaches a terminal or a line-oriented output it is shown escaped, so it can neither
 * break a line, forge a record, nor send codes to the terminal; JSON output keeps its exact value, escaped as
 * JSON. And the API secret, of any length, never leaves in any of them.
 */

/**
 * Characters that break a line or drive a terminal: C0 controls (newline, tab, ESC, BEL, backspace, NUL…),
 * DEL, C1 controls (U+0080–U+009F: CSI and OSC on some terminals), the Unicode line and paragraph
 * separators, and the bidirectional overrides and isolates that reorder what a terminal shows.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this matches.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_GLOBAL = new RegExp(UNSAFE.source, 'g');
const UNSAFE_OR_BACKSLASH = new RegExp(`${UNSAFE.source}|\\\\`, 'g');
/** What JSON.stringify leaves raw of the above (it escapes only C0). */
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' };

/**
 * Untrusted text as it is shown in a line for people or for scripts: backslashes and the characters above
 * written as `\n`, `\t`, `\x1b`, `\u202e`, so a value can neither break the one-line-per-record output nor
 * send codes to the terminal. `--json` and manifests keep the exact value.
 */
export function shown(text: string): string {
  return text.replace(UNSAFE_OR_BACKSLASH, escapeOne);
}

/**
 * Like `shown`, but backslashes stay as they are: for messages to people that may quote a path (a Windows
 * path keeps its look), where nothing needs to be read back unambiguously.
 */
export function withoutControls(text: string): string {
  return text.replace(UNSAFE_GLOBAL, escapeOne);
}

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * A file name or input as shown in a line of output. On Windows `\` is the path separator, and NTFS names
 * cannot hold control characters, so backslashes stay as they are (`captures\a.bin`, not `captures\\a.bin`);
 * elsewhere a name is shown like any untrusted text.
 */
export function shownName(name: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? withoutControls(name) : shown(name);
}

/** True when the text holds a character that `shown` escapes (a backslash aside). */
export function hasUnsafeCharacters(text: string): boolean {
  return UNSAFE.test(text);
}

/**
 * A record as one NDJSON line: exact values, and no character in it that a terminal would act on
 * (JSON.stringify leaves DEL, C1 and the Unicode separators and overrides raw; they are written as `\uXXXX`,
 * which is still the same JSON value). With `redact`, each string value is redacted on its own: redacting the
 * whole line could cut through its JSON, as a short secret may be part of a key.
 */
export function jsonLine(record: Readonly<Record<string, unknown>>, redact?: Redact): string {
  let value = record;
  if (redact) {
    const redacted: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(record)) redacted[key] = typeof field === 'string' ? redact(field) : field;
    value = redacted;
  }
  return JSON.stringify(value).replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Why a `liveness_data_id` from a server (or a manifest) cannot be printed as one, or undefined when it can:
 * an id that is only white space or holds a control character would print as no id, or as more than one line.
 */
export function unprintableId(id: string): string | undefined {
  if (id.trim() === '') return 'is only white space';
  // The id is quoted as it came (cut short): whatever shows the reason escapes it, and JSON keeps it exact.
  if (hasUnsafeCharacters(id)) return `contains control characters ("${id.slice(0, 80)}")`;
  return undefined;
}

/** Replaces secrets in text with `***`. */
export type Redact = (text: string) => string;

/**
 * A redactor for these secrets, whatever their length: a short one blanks ordinary words too (`sandbox`), a
 * price worth paying for the guarantee that no output holds it. Undefined and empty secrets are ignored.
 */
export function redactorFor(secrets: Iterable<string | undefined>): Redact {
  // Longest first, so that a secret holding another is replaced whole.
  const list = [...new Set([...secrets].filter((s): s is string => Boolean(s)))].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (text) => text;
  return (text) => {
    let result = text;
    for (const secret of list) if (result.includes(secret)) result = result.split(secret).join('***');
    return result;
  };
}
