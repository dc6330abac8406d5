/**
 * Canonical encoding (deterministic CBOR, cborg). The same value always encodes to the same
 * bytes; decoding refuses oversized, malformed and non-canonical input, and input that does not
 * match the expected schema, each with a typed error. Signatures and hashes are taken over these bytes.
 */
import * as cborg from 'cborg'
import type { z } from 'zod'
import { invalid } from './errors.js'
import { LIMITS } from './limits.js'

// Not `strict`: a non-minimal integer or length is then caught by the re-encoding check below and
// refused as NON_CANONICAL (what it is), not MALFORMED.
const DECODE_OPTIONS: cborg.DecodeOptions = {
  rejectDuplicateMapKeys: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false
}

// An optional field set to undefined is the same value as an absent one: same bytes, and bytes decode accepts.
const ENCODE_OPTIONS: cborg.EncodeOptions = { ignoreUndefinedProperties: true }

export function encode (value: unknown): Uint8Array {
  return cborg.encode(value, ENCODE_OPTIONS)
}

/** Decode and check `bytes` against `schema`; throws InvalidInputError (MALFORMED, NON_CANONICAL, OVERSIZED, INVALID_FIELD). */
export function decode<S extends z.ZodType> (schema: S, bytes: Uint8Array, maxBytes: number = LIMITS.messageBytes): z.infer<S> {
  if (!(bytes instanceof Uint8Array)) throw invalid('MALFORMED', 'input is not bytes')
  if (bytes.length > maxBytes) throw invalid('OVERSIZED', `input is ${bytes.length} bytes, limit ${maxBytes}`, { size: bytes.length, limit: maxBytes })
  let value: unknown
  try {
    value = cborg.decode(bytes, DECODE_OPTIONS)
  } catch (err) {
    throw invalid('MALFORMED', `not valid CBOR: ${(err as Error).message}`)
  }
  // cborg cannot enforce map key order or float width on decode; re-encoding can.
  if (!equalBytes(cborg.encode(value), bytes)) throw invalid('NON_CANONICAL', 'input is not in canonical form')
  return validate(schema, value)
}

/** Check an already-decoded value against a schema, with the same typed error as decode. */
export function validate<S extends z.ZodType> (schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue?.path.join('.') ?? ''
    throw invalid('INVALID_FIELD', `${path === '' ? 'value' : path}: ${issue?.message ?? 'invalid'}`, { path })
  }
  return parsed.data
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
