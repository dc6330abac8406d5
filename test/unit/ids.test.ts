import { describe, expect, it } from 'vitest'
import { encode } from '../../consensus/codec.js'
import { DOMAIN, taggedHash } from '../../consensus/hash.js'
import { fromHex, genesisHash, headerHash, idKey, toHex } from '../../consensus/ids.js'
import { makeCommittedBlock, makeEntries, makeNetwork, makeSubmission } from '../helpers/fixtures.js'

describe('ids', () => {
  it('a header hash and a genesis hash are tagged hashes of their canonical bytes, under distinct tags', () => {
    const net = makeNetwork(4)
    const { block } = makeCommittedBlock(net, [makeSubmission(net, makeEntries(3))])
    expect(headerHash(block.header)).toEqual(taggedHash(DOMAIN.blockHeader, encode(block.header)))
    expect(headerHash({ ...block.header, entryCount: 4 })).not.toEqual(headerHash(block.header))
    expect(genesisHash(net.genesis)).toEqual(taggedHash(DOMAIN.genesis, encode(net.genesis)))
    expect(taggedHash(DOMAIN.genesis, encode(block.header))).not.toEqual(headerHash(block.header))
  })

  it('hex is lowercase, two digits a byte, for views into larger buffers too', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    const expected = Array.from(all, b => b.toString(16).padStart(2, '0')).join('')
    expect(toHex(all)).toBe(expected)
    expect(toHex(all.subarray(250, 253))).toBe('fafbfc')
    expect(toHex(new Uint8Array(0))).toBe('')
    expect(fromHex(toHex(all))).toEqual(all)
  })

  it('an id key is one character per byte, for views too, and tells ids apart that hex tells apart', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    const key = idKey(all)
    expect(key.length).toBe(256)
    expect(Array.from(key, c => c.charCodeAt(0))).toEqual(Array.from(all))
    expect(idKey(all.subarray(250, 253))).toBe('\u00fa\u00fb\u00fc')
    const ids = Array.from({ length: 200 }, (_, i) => Uint8Array.of(i % 7, i % 11, i % 13, 0, 255))
    expect(new Set(ids.map(idKey)).size).toBe(new Set(ids.map(toHex)).size)
  })
})
