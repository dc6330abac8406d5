import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { IdFilter } from '../../lib/stored-id-filter.js'

describe('entry filter', () => {
  it('answers maybe for every id added, and no for nearly all others', () => {
    // 2^16 bits for 5,000 ids: about 0.2% false positives expected.
    const filter = new IdFilter(16)
    const added = Array.from({ length: 5000 }, () => new Uint8Array(randomBytes(32)))
    for (const id of added) filter.add(id)
    expect(filter.size).toBe(5000)
    expect(added.every(id => filter.mayHave(id))).toBe(true)
    const others = Array.from({ length: 50_000 }, () => new Uint8Array(randomBytes(32)))
    const falsePositives = others.filter(id => filter.mayHave(id)).length
    expect(falsePositives).toBeLessThan(50_000 * 0.01)
  })

  it('answers no for everything when empty', () => {
    const filter = new IdFilter(10)
    expect(Array.from({ length: 1000 }, () => filter.mayHave(new Uint8Array(randomBytes(32)))).some(Boolean)).toBe(false)
  })

  it('reads the id where it sits in a larger buffer', () => {
    const filter = new IdFilter(12)
    const key = new Uint8Array(randomBytes(33))
    filter.add(key.subarray(1))
    expect(filter.mayHave(Uint8Array.from(key.subarray(1)))).toBe(true)
  })

  it('refuses ids too short to give its positions, and sizes out of range', () => {
    const filter = new IdFilter(12)
    expect(() => filter.add(new Uint8Array(27))).toThrow(RangeError)
    expect(() => filter.mayHave(new Uint8Array(10))).toThrow(RangeError)
    expect(() => new IdFilter(4)).toThrow(RangeError)
    expect(() => new IdFilter(33)).toThrow(RangeError)
    expect(() => new IdFilter(20.5)).toThrow(RangeError)
  })
})
