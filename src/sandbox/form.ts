/**
 * Request parameters kept as raw bytes: the endpoint answers ENCODING_ERROR for a parameter that is not
 * UTF-8, which a decoder that substitutes U+FFFD (URLSearchParams, Request.formData()) would hide.
 */

import { isUtf8 } from 'node:buffer';
import { LinkfaceError } from '../errors.js';

export interface RawParam {
  readonly name: Buffer;
  readonly value: Buffer;
}

export interface RawFile {
  readonly filename: string;
  readonly bytes: Buffer;
}

export interface RawForm {
  readonly params: RawParam[];
  readonly file?: RawFile;
}

/** Why a body could not be read as a form; answered as INVALID_ARGUMENT. */
export class MalformedBody extends LinkfaceError {
  constructor(message: string) {
    super('MALFORMED_BODY', message);
  }
}

const EMPTY_FORM: RawForm = { params: [] };

export function parseForm(contentType: string, body: Buffer): RawForm {
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === 'multipart/form-data') return parseMultipart(body, multipartBoundary(contentType));
  if (mediaType === 'application/x-www-form-urlencoded') return { params: parseUrlencoded(body) };
  if (body.length === 0) return EMPTY_FORM;
  throw new MalformedBody(
    `unsupported Content-Type '${mediaType}': send multipart/form-data or application/x-www-form-urlencoded`,
  );
}

/** Splits `a=1&b=%41` into raw bytes, decoding `+` and percent escapes but not the UTF-8 they form. */
export function parseUrlencoded(bytes: Buffer): RawParam[] {
  const params: RawParam[] = [];
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x26 /* & */, start);
    if (end === -1) end = bytes.length;
    const pair = bytes.subarray(start, end);
    if (pair.length > 0) {
      const eq = pair.indexOf(0x3d /* = */);
      const name = eq === -1 ? pair : pair.subarray(0, eq);
      const value = eq === -1 ? Buffer.alloc(0) : pair.subarray(eq + 1);
      params.push({ name: percentDecode(name), value: percentDecode(value) });
    }
    start = end + 1;
  }
  return params;
}

function percentDecode(bytes: Buffer): Buffer {
  const out = Buffer.alloc(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    const hex = byte === 0x25 /* % */ ? bytes.toString('latin1', i + 1, i + 3) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      out[length++] = Number.parseInt(hex, 16);
      i += 2;
    } else {
      out[length++] = byte === 0x2b /* + */ ? 0x20 : byte;
    }
  }
  return out.subarray(0, length);
}

function multipartBoundary(contentType: string): string {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw new MalformedBody('multipart/form-data without a boundary');
  return boundary;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** RFC 7578 on a buffered body: each part is `--boundary CRLF headers CRLF CRLF content CRLF`. */
function parseMultipart(body: Buffer, boundary: string): RawForm {
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  const params: RawParam[] = [];
  let file: RawFile | undefined;
  let pos = body.indexOf(delimiter);
  if (pos === -1) throw new MalformedBody('multipart body without its boundary');
  for (;;) {
    pos += delimiter.length;
    if (body.toString('latin1', pos, pos + 2) === '--') return { params, file };
    const headersStart = body.indexOf(CRLF, pos);
    const headersEnd = body.indexOf(HEADER_END, pos);
    const contentEnd = headersEnd === -1 ? -1 : body.indexOf(nextDelimiter, headersEnd + HEADER_END.length);
    if (headersStart === -1 || contentEnd === -1) throw new MalformedBody('multipart body is truncated');
    const headers = body.toString('utf8', headersStart + CRLF.length, headersEnd);
    const content = body.subarray(headersEnd + HEADER_END.length, contentEnd);
    const { name, filename } = contentDisposition(headers);
    if (name === 'file') file ??= { filename: filename ?? '', bytes: content };
    else params.push({ name: Buffer.from(name), value: content });
    pos = contentEnd + CRLF.length;
  }
}

function contentDisposition(headers: string): { name: string; filename?: string } {
  const line = headers.split('\r\n').find((h) => /^content-disposition:/i.test(h)) ?? '';
  const name = dispositionParam(line, 'name');
  if (name === undefined) throw new MalformedBody('multipart part without a Content-Disposition name');
  return { name, filename: dispositionParam(line, 'filename') };
}

function dispositionParam(line: string, key: string): string | undefined {
  const match = new RegExp(`;\\s*${key}=(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(line);
  return match ? (match[1] ?? match[2]) : undefined;
}

export interface DecodedParams {
  /** The first value of each name; bytes that are not UTF-8 shown as U+FFFD. */
  readonly values: Record<string, string>;
  /** Names of the parameters whose name or value is not UTF-8. */
  readonly notUtf8: string[];
}

export function decodeParams(params: readonly RawParam[]): DecodedParams {
  const values = new Map<string, string>();
  const notUtf8: string[] = [];
  for (const { name, value } of params) {
    const key = name.toString('utf8');
    if (!isUtf8(name) || !isUtf8(value)) notUtf8.push(key);
    if (!values.has(key)) values.set(key, value.toString('utf8'));
  }
  // fromEntries defines own properties, so a parameter named __proto__ is kept as data.
  return { values: Object.fromEntries(values), notUtf8 };
}
