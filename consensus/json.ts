/**
 * JSON form of core values (certificates, genesis, blocks) for files, HTTP and the browser. Byte
 * fields are lowercase hex strings; everything else is as in the canonical form. Reading JSON
 * converts the known byte fields back and then applies the value's schema, so bad JSON gets the
 * same typed refusal as bad CBOR (MALFORMED, OVERSIZED, INVALID_FIELD) and never a partial value.
 * JSON text is read strictly (parseJson): text that readers could take two ways — a key given
 * twice (one reader keeps the first value, another the last), a lone surrogate, bytes that are
 * not UTF-8 — is refused as MALFORMED instead of being read one of those ways.
 */
import { decode as decodeJson } from 'cborg/json'
import type { z } from 'zod'
import { validate } from './codec.js'
import { invalid } from './errors.js'
import { fromHex, toHex } from './ids.js'
import { LIMITS } from './limits.js'
import { BlockSchema, CertificateSchema, GenesisSchema, LONE_SURROGATE, type Block, type Certificate, type Genesis } from './types.js'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/**
 * Fields holding one byte string (a submission's `entries` is one string of k × 32 bytes; an
 * attestation's `anchored` may be null), and fields holding a list of them.
 */
const BYTE_FIELDS: ReadonlySet<string> = new Set(['dataHash', 'salt', 'genesisHash', 'prevHash', 'entriesRoot', 'blockHash', 'signature', 'publicKey', 'entry', 'entries', 'anchored'])
const BYTE_LIST_FIELDS: ReadonlySet<string> = new Set(['siblings'])
/** Deeper than any schema nests, so a deeper input is refused before it can exhaust the stack. */
const MAX_DEPTH = 16
/** Hex doubles bytes and JSON adds field names: room for the largest canonical message. */
export const MAX_JSON_CHARS = 4 * LIMITS.messageBytes

const HEX = /^(?:[0-9a-f]{2})*$/
const utf8Encoder = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** Byte strings become lowercase hex; undefined object fields are left out (as JSON.stringify does). */
export function toJson (value: unknown): Json {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('JSON has no non-finite numbers')
    return value
  }
  if (value instanceof Uint8Array) return toHex(value)
  if (Array.isArray(value)) return value.map(toJson)
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return Object.fromEntries(Object.entries(value as object).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toJson(v)]))
  }
  throw new TypeError(`cannot convert ${typeof value} to JSON`)
}

export function toJsonText (value: unknown): string {
  return JSON.stringify(toJson(value))
}

/** Convert hex byte fields of parsed JSON back to bytes, then check the result against `schema`. */
export function fromJson<S extends z.ZodType> (schema: S, json: unknown): z.infer<S> {
  return validate(schema, revive(json, [], 0))
}

/** Parse JSON text (refusing oversized text and invalid JSON) and read it as `schema`. */
export function fromJsonText<S extends z.ZodType> (schema: S, text: string, maxChars: number = MAX_JSON_CHARS): z.infer<S> {
  if (typeof text !== 'string') throw invalid('MALFORMED', 'input is not text')
  if (text.length > maxChars) throw invalid('OVERSIZED', `input is ${text.length} characters, limit ${maxChars}`, { size: text.length, limit: maxChars })
  return fromJson(schema, parseJson(text))
}

/**
 * One JSON value from text or UTF-8 bytes, read strictly: MALFORMED for invalid JSON, bytes that
 * are not UTF-8 (surrogates encoded as bytes included), a key twice in one object, and a lone
 * surrogate in any string or key (escaped or not). The value and the syntax are JSON.parse's;
 * cborg's JSON decoder, which refuses repeated keys, only checks for them (it takes some
 * non-JSON, such as a trailing comma in an object, that JSON.parse has refused by then).
 */
export function parseJson (input: string | Uint8Array): unknown {
  let text: string
  if (typeof input === 'string') {
    if (LONE_SURROGATE.test(input)) throw invalid('MALFORMED', 'not valid JSON: text holds a lone surrogate')
    text = input
  } else {
    try {
      text = strictUtf8.decode(input)
    } catch {
      throw invalid('MALFORMED', 'not valid JSON: bytes are not UTF-8')
    }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
    decodeJson(typeof input === 'string' ? utf8Encoder.encode(input) : input, { rejectDuplicateMapKeys: true })
  } catch (err) {
    // Also a nesting deep enough to exhaust the stack (RangeError).
    throw invalid('MALFORMED', `not valid JSON: ${(err as Error).message}`)
  }
  if (holdsLoneSurrogate(json, 0)) throw invalid('MALFORMED', 'not valid JSON: a string holds a lone surrogate')
  return json
}

/** Whether a string or key anywhere in `value` holds an escaped lone surrogate (\ud800). */
function holdsLoneSurrogate (value: unknown, depth: number): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value)
  if (value === null || typeof value !== 'object') return false
  if (depth > MAX_DEPTH) return false // revive() refuses it with its path
  if (Array.isArray(value)) return value.some(v => holdsLoneSurrogate(v, depth + 1))
  return Object.entries(value).some(([k, v]) => LONE_SURROGATE.test(k) || holdsLoneSurrogate(v, depth + 1))
}

export const certificateFromJson = (json: unknown): Certificate => fromJson(CertificateSchema, json)
export const genesisFromJson = (json: unknown): Genesis => fromJson(GenesisSchema, json)
export const blockFromJson = (json: unknown): Block => fromJson(BlockSchema, json)

function revive (value: unknown, path: Array<string | number>, depth: number): unknown {
  if (depth > MAX_DEPTH) throw invalid('MALFORMED', 'JSON nests too deeply', { path: path.join('.') })
  if (Array.isArray(value)) return value.map((v, i) => revive(v, [...path, i], depth + 1))
  if (value === null || typeof value !== 'object') return value
  // fromEntries defines own properties, so a "__proto__" key stays a key (and the schema refuses it).
  return Object.fromEntries(Object.entries(value).map(([k, v]) => {
    const at = [...path, k]
    if (BYTE_FIELDS.has(k)) return [k, hexBytes(v, at)]
    if (BYTE_LIST_FIELDS.has(k) && Array.isArray(v)) return [k, v.map((s, i) => hexBytes(s, [...at, i]))]
    return [k, revive(v, at, depth + 1)]
  }))
}

/** Hex to bytes; anything not a string is passed on for the schema to refuse with its path. */
function hexBytes (value: unknown, path: Array<string | number>): unknown {
  if (typeof value !== 'string') return value
  if (!HEX.test(value)) throw invalid('INVALID_FIELD', `${path.join('.')}: must be lowercase hex of whole bytes`, { path: path.join('.') })
  return fromHex(value)
}
