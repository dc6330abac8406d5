/**
 * The common case of the canonical encoder without cborg's token machinery: plain data (plain
 * objects with ASCII keys, arrays, strings, safe integers, bytes, booleans, null) encoded to the
 * bytes cborg produces for it, map keys sorted by length and then bytewise. Anything else (floats,
 * bigints, Maps, class instances, undefined outside an ignored property, very deep nesting)
 * returns undefined, and the caller encodes with cborg. Records, blocks and messages are encoded
 * several times per record on a validator's hot path; this is several times faster.
 */

import { copyBytes } from '../lib/bytes.js'

const MAX_DEPTH = 64
const utf8 = new TextEncoder()

/** Thrown inside, caught at the top: the value is not plain data. */
const UNSUPPORTED = Symbol('unsupported')

let buf = new Uint8Array(64 * 1024)
let pos = 0
let skipUndefined = false

/**
 * The canonical bytes of `value` as cborg encodes them, after `prefix` if given (saving a copy
 * when they are hashed under a tag), or undefined when cborg must do it.
 */
export function encodePlain (value: unknown, ignoreUndefinedProperties: boolean, prefix?: Uint8Array): Uint8Array | undefined {
  const view = encodePlainTransient(value, ignoreUndefinedProperties, prefix)
  return view === undefined ? undefined : copyBytes(view)
}

/**
 * encodePlain() without the copy: a view of the encoder's own buffer, valid only until the next
 * encoding. For bytes that are hashed or compared at once.
 */
export function encodePlainTransient (value: unknown, ignoreUndefinedProperties: boolean, prefix?: Uint8Array): Uint8Array | undefined {
  pos = 0
  skipUndefined = ignoreUndefinedProperties
  if (prefix !== undefined) writeRaw(prefix)
  try {
    write(value, 0)
  } catch (err) {
    if (err === UNSUPPORTED) return undefined
    throw err
  }
  return buf.subarray(0, pos)
}

function ensure (n: number): void {
  if (pos + n <= buf.length) return
  const grown = new Uint8Array(Math.max(buf.length * 2, pos + n))
  grown.set(buf.subarray(0, pos))
  buf = grown
}

function head (major: number, n: number): void {
  ensure(9)
  const m = major << 5
  if (n < 24) {
    buf[pos++] = m | n
  } else if (n < 0x100) {
    buf[pos++] = m | 24
    buf[pos++] = n
  } else if (n < 0x10000) {
    buf[pos++] = m | 25
    buf[pos++] = n >>> 8
    buf[pos++] = n & 0xff
  } else if (n < 0x100000000) {
    buf[pos++] = m | 26
    writeUint32(n)
  } else {
    buf[pos++] = m | 27
    writeUint32(Math.floor(n / 0x100000000))
    writeUint32(n >>> 0)
  }
}

function writeUint32 (n: number): void {
  buf[pos++] = n >>> 24
  buf[pos++] = (n >>> 16) & 0xff
  buf[pos++] = (n >>> 8) & 0xff
  buf[pos++] = n & 0xff
}

function writeString (s: string): void {
  const start = pos
  head(3, s.length)
  ensure(s.length)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) {
      // Not ASCII: the byte length differs from the length, so start over with the UTF-8 bytes.
      pos = start
      writeBytes(3, utf8.encode(s))
      return
    }
    buf[pos++] = c
  }
}

function writeBytes (major: number, bytes: Uint8Array): void {
  head(major, bytes.length)
  writeRaw(bytes)
}

function writeRaw (bytes: Uint8Array): void {
  ensure(bytes.length)
  buf.set(bytes, pos)
  pos += bytes.length
}

/** Canonical order of ASCII keys: shorter first, then bytewise (which is code unit order for ASCII). */
function keyOrder (a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0
}

function isAscii (s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false
  return true
}

function write (value: unknown, depth: number): void {
  switch (typeof value) {
    case 'string':
      writeString(value)
      return
    case 'number':
      if (!Number.isSafeInteger(value)) throw UNSUPPORTED
      if (value >= 0) head(0, value)
      else head(1, -1 - value)
      return
    case 'boolean':
      ensure(1)
      buf[pos++] = value ? 0xf5 : 0xf4
      return
    case 'object':
      break
    default:
      throw UNSUPPORTED
  }
  if (value === null) {
    ensure(1)
    buf[pos++] = 0xf6
    return
  }
  if (depth >= MAX_DEPTH) throw UNSUPPORTED
  if (value instanceof Uint8Array) {
    writeBytes(2, value)
    return
  }
  if (Array.isArray(value)) {
    head(4, value.length)
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      if (item === undefined) throw UNSUPPORTED
      write(item, depth + 1)
    }
    return
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) throw UNSUPPORTED
  const object = value as Record<string, unknown>
  // Decoded and schema-built values usually hold their keys in canonical order already: count and
  // check them without the array Object.keys would allocate, and sort only when needed.
  let n = 0
  let previous: string | undefined
  for (const key in object) {
    if (object[key] === undefined) {
      if (skipUndefined) continue
      throw UNSUPPORTED
    }
    if (!isAscii(key)) throw UNSUPPORTED
    if (previous !== undefined && keyOrder(previous, key) > 0) { writeSorted(object, depth); return }
    previous = key
    n++
  }
  head(5, n)
  for (const key in object) {
    const item = object[key]
    if (item === undefined) continue
    writeString(key)
    write(item, depth + 1)
  }
}

/** An object whose keys are not in canonical order. */
function writeSorted (object: Record<string, unknown>, depth: number): void {
  const keys = Object.keys(object)
  let n = 0
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    if (object[key] === undefined) {
      if (skipUndefined) continue
      throw UNSUPPORTED
    }
    if (!isAscii(key)) throw UNSUPPORTED
    // Insertion sort: a handful of keys.
    let j = n++
    while (j > 0 && keyOrder(keys[j - 1] as string, key) > 0) { keys[j] = keys[j - 1] as string; j-- }
    keys[j] = key
  }
  head(5, n)
  for (let i = 0; i < n; i++) {
    const key = keys[i] as string
    writeString(key)
    write(object[key], depth + 1)
  }
}
