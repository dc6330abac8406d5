/**
 * The hot path's SHA-256 reads digests out of a binary string and joins small inputs in a shared
 * buffer; the byte helpers cut larger arrays from Node's pool. Each must give exactly what the
 * plain way gives, and never hand out memory another caller can change.
 */
import { createHash } from 'node:crypto'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { sha256 } from '../../consensus/hash.js'
import { Rng } from '../../lib/rng.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

function reference (parts: Uint8Array[]): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest('hex')
}

describe('sha256', () => {
  it('equals node:crypto and @noble/hashes over one part and many, below and above the shared buffer size', () => {
    const rng = new Rng(5)
    for (const total of [0, 1, 31, 32, 33, 64, 65, 106, 255, 256, 257, 1000, 70_000]) {
      const bytes = Uint8Array.from({ length: total }, () => rng.int(0, 255))
      const cut = rng.int(0, total)
      for (const parts of [[bytes], [bytes.subarray(0, cut), bytes.subarray(cut)], [new Uint8Array(0), bytes, new Uint8Array(0)]]) {
        const digest = sha256(...parts)
        expect(hex(digest)).toBe(reference(parts))
        expect(hex(digest)).toBe(hex(nobleSha256(bytes)))
      }
    }
  })

  it('gives each digest its own 32 bytes: a later hash does not change an earlier one', () => {
    const a = sha256(Uint8Array.of(1), Uint8Array.of(2))
    const copy = hex(a)
    const b = sha256(Uint8Array.of(3), Uint8Array.of(4))
    expect(hex(a)).toBe(copy)
    expect(a.buffer).not.toBe(b.buffer)
    expect(a.length).toBe(32)
    expect(Object.getPrototypeOf(a)).toBe(Uint8Array.prototype)
  })
})
