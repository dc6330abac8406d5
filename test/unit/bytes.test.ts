import { describe, expect, it } from 'vitest'
import { prefixedKey, uint64BE } from '../../lib/bytes.js'

const viaBigInt = (n: number): Uint8Array => {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}

describe('store key bytes', () => {
  const values = [0, 1, 255, 256, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 1_764_000_000_000, 2 ** 52 + 3, Number.MAX_SAFE_INTEGER]

  it('writes integers as 8 big-endian bytes, up to the largest safe integer', () => {
    for (const n of values) expect(uint64BE(n)).toEqual(viaBigInt(n))
  })

  it('makes keys that sort as their numbers do', () => {
    const keys = values.map(n => Buffer.from(prefixedKey(0x02, uint64BE(n))))
    expect([...keys].sort(Buffer.compare)).toEqual(keys)
  })

  it('refuses what is not a non-negative safe integer', () => {
    for (const n of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity]) expect(() => uint64BE(n)).toThrow(RangeError)
  })
})
