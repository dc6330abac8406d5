/**
 * Decoding through the interning tokenizer must give exactly what cborg's own tokenizer gives,
 * for every input: the same values (whatever the cache holds), and an error wherever cborg errs.
 */
import * as cborg from 'cborg'
import { describe, expect, it } from 'vitest'
import { InterningTokenizer } from '../../consensus/interning-tokenizer.js'
import { Rng } from '../../lib/rng.js'

const OPTIONS: cborg.DecodeOptions = { rejectDuplicateMapKeys: true, allowIndefinite: false, allowUndefined: false }
const WORDS = ['v', 'meta', 'dataHash', 'clientTime', 'owner', 'service', '', 'é', 'naïve', '日本', 'x'.repeat(23), 'y'.repeat(24), 'z'.repeat(40)]

const viaCborg = (bytes: Uint8Array): unknown => cborg.decode(bytes, OPTIONS)
const viaInterning = (bytes: Uint8Array): unknown => cborg.decode(bytes, { ...OPTIONS, tokenizer: new InterningTokenizer(bytes, OPTIONS) })

/** The value, or the fact that decoding threw. */
function outcome (decodeWith: (bytes: Uint8Array) => unknown, bytes: Uint8Array): unknown {
  try { return decodeWith(bytes) } catch { return 'throws' }
}

function text (rng: Rng): string {
  if (rng.chance(0.5)) return rng.pick(WORDS)
  // Many distinct short strings, so that cache slots are shared and overwritten.
  return Array.from({ length: rng.int(0, 23) }, () => String.fromCharCode(rng.chance(0.95) ? rng.int(0x20, 0x7e) : rng.int(0x80, 0x3000))).join('')
}

function value (rng: Rng, depth: number): unknown {
  switch (rng.int(0, depth > 2 ? 2 : 4)) {
    case 0: return text(rng)
    case 1: return rng.chance(0.5) ? rng.int(0, 2 ** 31) : Uint8Array.from({ length: rng.int(0, 40) }, () => rng.int(0, 255))
    case 2: return rng.chance(0.5)
    case 3: return Array.from({ length: rng.int(0, 5) }, () => value(rng, depth + 1))
    default: {
      const o: Record<string, unknown> = {}
      for (let i = rng.int(0, 6); i > 0; i--) o[text(rng)] = value(rng, depth + 1)
      return o
    }
  }
}

describe('interning tokenizer', () => {
  it('decodes random values exactly as cborg does, across thousands of distinct strings sharing cache slots', () => {
    const rng = new Rng(17)
    for (let i = 0; i < 4000; i++) {
      const bytes = cborg.encode(value(rng, 0))
      expect(viaInterning(bytes)).toEqual(viaCborg(bytes))
    }
  })

  it('hands out byte strings as plain Uint8Array copies, also when the input is a Buffer', () => {
    const input = Buffer.from(cborg.encode({ dataHash: Uint8Array.of(1, 2, 3) }))
    const decoded = viaInterning(input) as { dataHash: Uint8Array }
    expect(Object.getPrototypeOf(decoded.dataHash)).toBe(Uint8Array.prototype)
    input.fill(0)
    expect([...decoded.dataHash]).toEqual([1, 2, 3])
  })

  it('errs wherever cborg errs: truncated, corrupted and trailing input', () => {
    const rng = new Rng(19)
    let errors = 0
    for (let i = 0; i < 2000; i++) {
      const bytes = cborg.encode(value(rng, 0))
      const broken = Uint8Array.from(bytes)
      const cut = rng.chance(0.4) ? broken.subarray(0, rng.int(0, broken.length)) : broken
      if (cut.length > 0 && rng.chance(0.5)) cut[rng.int(0, cut.length - 1)] = rng.int(0, 255)
      const input = rng.chance(0.1) ? Uint8Array.from([...cut, 0x61, 0x61]) : cut
      const expected = outcome(viaCborg, input)
      if (expected === 'throws') errors++
      expect(outcome(viaInterning, input)).toEqual(expected)
    }
    expect(errors).toBeGreaterThan(200)
  })

  it('returns the same string object for a repeated key, and a fresh correct one after its slot was reused', () => {
    const [a] = viaInterning(cborg.encode(['clientTime'])) as [string]
    const [b] = viaInterning(cborg.encode(['clientTime'])) as [string]
    expect(a).toBe('clientTime')
    expect(b).toBe(a)
    const many = Array.from({ length: 5000 }, (_, i) => `k${i}`)
    expect(viaInterning(cborg.encode(many))).toEqual(many)
    expect(viaInterning(cborg.encode(['clientTime']))).toEqual(['clientTime'])
  })
})
