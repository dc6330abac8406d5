import { describe, expect, it } from 'vitest'
import { encode } from '../../consensus/codec.js'
import { DOMAIN, taggedHash } from '../../consensus/hash.js'
import { fromHex, recordId, toHex } from '../../consensus/ids.js'
import { makeRecord } from '../helpers/fixtures.js'

describe('ids', () => {
  it('a record id is the tagged hash of its canonical bytes, computed once per object', () => {
    const r = makeRecord(1)
    const id = recordId(r)
    expect(id).toEqual(taggedHash(DOMAIN.record, encode(r)))
    expect(recordId(r)).toBe(id)
    expect(recordId(structuredClone(r))).toEqual(id)
  })

  it('hex is lowercase, two digits a byte, for views into larger buffers too', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    const expected = Array.from(all, b => b.toString(16).padStart(2, '0')).join('')
    expect(toHex(all)).toBe(expected)
    expect(toHex(all.subarray(250, 253))).toBe('fafbfc')
    expect(toHex(new Uint8Array(0))).toBe('')
    expect(fromHex(toHex(all))).toEqual(all)
  })
})
