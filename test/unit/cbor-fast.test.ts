/**
 * The fast encoder must produce exactly cborg's bytes for every value it accepts, and refuse
 * (undefined) every value it does not handle, so that the codec can fall back to cborg.
 */
import * as cborg from 'cborg'
import { describe, expect, it } from 'vitest'
import { encodePlain, encodePlainTransient } from '../../consensus/cbor-fast.js'
import { decode, encode } from '../../consensus/codec.js'
import { LedgerRecordSchema, type LedgerRecord, type RecordMetadata } from '../../consensus/types.js'
import { Rng } from '../../lib/rng.js'

const INTS = [0, 1, 23, 24, 25, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]
const CHARS = ['a', 'Z', '0', ' ', '~', 'é', 'ß', '€', '日本', '😀', '\u{10FFFF}', '\uD800', '\uDFFF', '\u0000', '\u007f', '\u0080', '\u07ff', '\u0800', '\uffff']

function text (rng: Rng, maxLength: number, chars = CHARS): string {
  const n = rng.int(0, maxLength)
  let s = ''
  for (let i = 0; i < n; i++) s += rng.chance(0.7) ? String.fromCharCode(rng.int(0x20, 0x7e)) : rng.pick(chars)
  return s
}

/** What records may hold: no control characters. */
const TEXT_CHARS = CHARS.filter(c => c.charCodeAt(0) >= 0x20 && c !== '\u007f')

function int (rng: Rng): number {
  const base = rng.pick(INTS)
  const n = rng.chance(0.3) ? Math.max(0, base - rng.int(0, 3)) : base
  return rng.chance(0.2) ? -n - (rng.chance(0.5) ? 1 : 0) : n
}

function bytes (rng: Rng): Uint8Array {
  const n = rng.chance(0.02) ? 70_000 : rng.pick([0, 1, 23, 24, 32, 255, 256, rng.int(0, 300)])
  return Uint8Array.from({ length: n }, () => rng.int(0, 255))
}

function value (rng: Rng, depth: number): unknown {
  switch (rng.int(0, depth > 3 ? 4 : 7)) {
    case 0: return int(rng)
    case 1: return text(rng, rng.chance(0.1) ? 300 : 30)
    case 2: return rng.chance(0.5) ? bytes(rng) : null
    case 3: return rng.chance(0.5)
    case 4: return rng.chance(0.9) ? int(rng) : rng.pick([0.5, -1.25, 1e300, NaN, Infinity, 2 ** 60])
    case 5: return Array.from({ length: rng.int(0, 8) }, () => value(rng, depth + 1))
    default: {
      const o: Record<string, unknown> = {}
      for (let i = rng.int(0, 26) >> (depth > 0 ? 2 : 0); i > 0; i--) o[rng.chance(0.95) ? text(rng, 12).replace(/[^\x20-\x7e]/g, 'k') : text(rng, 4)] = rng.chance(0.1) ? undefined : value(rng, depth + 1)
      return o
    }
  }
}

function record (rng: Rng): LedgerRecord {
  const meta: RecordMetadata = {}
  if (rng.chance(0.5)) meta.name = text(rng, 40, TEXT_CHARS)
  if (rng.chance(0.5)) meta.size = Math.min(Math.abs(int(rng)), Number.MAX_SAFE_INTEGER)
  if (rng.chance(0.5)) meta.contentType = text(rng, 20, TEXT_CHARS)
  if (rng.chance(0.5)) meta.owner = text(rng, 20, TEXT_CHARS)
  if (rng.chance(0.5)) meta.clientTime = Math.min(Math.abs(int(rng)), Number.MAX_SAFE_INTEGER)
  return { v: 2, dataHash: Uint8Array.from({ length: 32 }, () => rng.int(0, 255)), meta, service: text(rng, 12, TEXT_CHARS) + 's' }
}

/** What cborg does with the value, as hex or the fact that it throws. */
function viaCborg (v: unknown, ignoreUndefinedProperties: boolean): string {
  try { return hex(cborg.encode(v, { ignoreUndefinedProperties })) } catch { return 'throws' }
}

function hex (b: Uint8Array): string
function hex (b: Uint8Array | undefined): string | undefined
function hex (b: Uint8Array | undefined): string | undefined {
  return b === undefined ? undefined : Buffer.from(b).toString('hex')
}

describe('fast canonical encoder', () => {
  it('encodes random plain values byte for byte as cborg, or leaves them to it', () => {
    const rng = new Rng(7)
    let accepted = 0
    for (let i = 0; i < 3000; i++) {
      const v = value(rng, 0)
      for (const ignore of [true, false]) {
        const fast = encodePlain(v, ignore)
        if (fast === undefined) continue
        accepted++
        expect(hex(fast)).toBe(viaCborg(v, ignore))
      }
    }
    expect(accepted).toBeGreaterThan(3000)
  })

  it('encodes ledger records with every combination of optional fields as cborg does, and decodes them back', () => {
    const rng = new Rng(11)
    for (let i = 0; i < 2000; i++) {
      const r = record(rng)
      const fast = encodePlain(r, true)
      expect(hex(fast)).toBe(hex(cborg.encode(r)))
      const back = decode(LedgerRecordSchema, fast as Uint8Array)
      expect(hex(encode(back))).toBe(hex(fast))
      expect(hex(encodePlain(r, true, Uint8Array.of(7, 0)))).toBe(`0700${hex(fast)}`)
    }
  })

  it('leaves to cborg what it does not handle', () => {
    class Point { x = 1 }
    for (const v of [1.5, NaN, -0.5, 2 ** 53, 10n, undefined, [undefined], new Map([['a', 1]]), new Point(), new Uint16Array(2), { é: 1 }, Symbol('s'), () => 1]) {
      expect(encodePlain(v, true)).toBeUndefined()
    }
    expect(encodePlain({ a: undefined }, false)).toBeUndefined()
    expect(hex(encodePlain({ a: undefined, b: 1 }, true))).toBe(hex(cborg.encode({ b: 1 })))
    let deep: unknown = 1
    for (let i = 0; i < 100; i++) deep = [deep]
    expect(encodePlain(deep, true)).toBeUndefined()
    expect(hex(encode(deep))).toBe(hex(cborg.encode(deep)))
  })

  it('encodes -0 as 0, Buffers and views as their bytes, and objects without prototype as maps, as cborg does', () => {
    const backing = Uint8Array.from({ length: 40 }, (_, i) => i)
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { b: 2, a: 1 })
    for (const v of [-0, Buffer.from([1, 2, 3]), backing.subarray(3, 30), bare, { z: [], y: {}, x: '' }]) {
      expect(hex(encodePlain(v, true))).toBe(hex(cborg.encode(v)))
    }
  })

  it('hands out copies that later encodings leave alone, and transient views that they overwrite', () => {
    const rng = new Rng(13)
    const records = Array.from({ length: 50 }, () => record(rng))
    const copies = records.map(r => encodePlain(r, true) as Uint8Array)
    const expected = copies.map(c => hex(c))
    for (const r of records) {
      const view = encodePlainTransient(r, true) as Uint8Array
      expect(hex(view)).toBe(hex(cborg.encode(r)))
    }
    // Copies stay intact and are plain Uint8Arrays, whatever their size (pooled or not).
    expect(copies.map(c => hex(c))).toEqual(expected)
    for (const c of copies) expect(Object.getPrototypeOf(c)).toBe(Uint8Array.prototype)
    const first = encodePlainTransient(records[0], true) as Uint8Array
    const before = hex(first)
    encodePlainTransient({ other: 'value that overwrites the shared buffer' }, true)
    expect(hex(first)).not.toBe(before)
  })
})

