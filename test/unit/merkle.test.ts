import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { leafBytes } from '../../consensus/entries.js'
import { leafHash, merkleProof, merkleProofs, merkleRoot, nodeHash, verifyInclusion } from '../../consensus/merkle.js'
import type { InclusionProof } from '../../consensus/types.js'
import { Rng } from '../../lib/rng.js'

// Independent RFC 6962 section 2.1 reference, written from the RFC and sharing no code with the module.
const H = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
/** Largest power of two smaller than n (n > 1). */
const split = (n: number): number => { let k = 1; while (k * 2 < n) k *= 2; return k }

function mth (d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return H()
  if (d.length === 1) return H(Uint8Array.of(0), d[0] as Uint8Array)
  const k = split(d.length)
  return H(Uint8Array.of(1), mth(d.slice(0, k)), mth(d.slice(k)))
}

/** PATH(m, D[n]) of RFC 6962 2.1.1, from the leaf up, with the side each sibling sits on. */
function path (m: number, d: readonly Uint8Array[]): Array<{ hash: Uint8Array, side: 'left' | 'right' }> {
  if (d.length <= 1) return []
  const k = split(d.length)
  return m < k
    ? [...path(m, d.slice(0, k)), { hash: mth(d.slice(k)), side: 'right' }]
    : [...path(m - k, d.slice(k)), { hash: mth(d.slice(0, k)), side: 'left' }]
}

/** The shape of PATH(m, D[n]) without hashing: sibling sides from the leaf up ('l' or 'r'). */
function shape (m: number, n: number): string {
  if (n <= 1) return ''
  const k = split(n)
  return m < k ? shape(m, k) + 'r' : shape(m - k, n - k) + 'l'
}

const leavesOf = (n: number, tag = 'leaf'): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => new TextEncoder().encode(`${tag}-${i}`))

const withSiblings = (proof: InclusionProof, siblings: Uint8Array[]): InclusionProof => ({ index: proof.index, siblings })
const flipped = (b: Uint8Array, at: number): Uint8Array => { const c = Uint8Array.from(b); c[at] = (c[at] as number) ^ 0x01; return c }

function sampleIndices (n: number, rng: Rng): number[] {
  const picks = new Set([0, 1, Math.floor(n / 2), n - 2, n - 1])
  while (picks.size < 12) picks.add(rng.int(0, n - 1))
  return [...picks].filter(i => i >= 0 && i < n)
}

describe('merkleRoot', () => {
  it('of the empty tree is SHA-256 of nothing', () => {
    expect(merkleRoot([])).toEqual(H())
    expect(merkleRoot([])).toEqual(mth([]))
  })

  it('equals the recursive RFC 6962 MTH for every size 1..64 and some larger ones', () => {
    for (const n of [...Array.from({ length: 64 }, (_, i) => i + 1), 100, 255, 256, 257, 999, 1000]) {
      const leaves = leavesOf(n)
      expect(merkleRoot(leaves), `size ${n}`).toEqual(mth(leaves))
    }
  })

  it('over a block\'s 34-byte leaves (service index, entry) equals MTH, and every leaf\'s proof verifies', () => {
    const rng = new Rng(34)
    const leaves = Array.from({ length: 333 }, (_, i) => leafBytes(i % 3, Uint8Array.from({ length: 32 }, () => rng.int(0, 255))))
    const root = merkleRoot(leaves)
    expect(root).toEqual(mth(leaves))
    merkleProofs(leaves).forEach((proof, i) => { expect(verifyInclusion(leaves[i] as Uint8Array, proof, leaves.length, root)).toBe(true) })
  })

  it('hashes leaves and nodes with distinct prefixes (RFC 6962: 0x00 and 0x01)', () => {
    const [a, b] = leavesOf(2) as [Uint8Array, Uint8Array]
    expect(leafHash(a)).toEqual(H(Uint8Array.of(0), a))
    expect(nodeHash(a, b)).toEqual(H(Uint8Array.of(1), a, b))
    expect(merkleRoot([a])).toEqual(leafHash(a))
    expect(merkleRoot([a, b])).toEqual(nodeHash(leafHash(a), leafHash(b)))
  })

  it('differs for [a,b,c] and [a,b,c,c] (no duplicated-last-leaf collision)', () => {
    const [a, b, c] = leavesOf(3) as [Uint8Array, Uint8Array, Uint8Array]
    expect(merkleRoot([a, b, c])).not.toEqual(merkleRoot([a, b, c, c]))
    expect(merkleRoot([a, b])).not.toEqual(merkleRoot([a, b, b]))
    // and a proof of c in the 3-leaf tree does not prove anything about the 4-leaf one, or vice versa
    const three = merkleProof([a, b, c], 2)
    const four = merkleProof([a, b, c, c], 3)
    expect(verifyInclusion(c, three, 4, merkleRoot([a, b, c, c]))).toBe(false)
    expect(verifyInclusion(c, { index: 3, siblings: three.siblings }, 4, merkleRoot([a, b, c, c]))).toBe(false)
    expect(verifyInclusion(c, four, 3, merkleRoot([a, b, c]))).toBe(false)
    expect(verifyInclusion(c, { index: 2, siblings: four.siblings }, 3, merkleRoot([a, b, c]))).toBe(false)
  })

  it('cannot be reached by presenting an inner node as a leaf (second preimage)', () => {
    const [a, b] = leavesOf(2) as [Uint8Array, Uint8Array]
    const inner = new Uint8Array([...leafHash(a), ...leafHash(b)])
    expect(merkleRoot([inner])).not.toEqual(merkleRoot([a, b]))
    expect(verifyInclusion(inner, { index: 0, siblings: [] }, 1, merkleRoot([a, b]))).toBe(false)
  })

  it('depends on leaf order', () => {
    const leaves = leavesOf(5)
    expect(merkleRoot([...leaves].reverse())).not.toEqual(merkleRoot(leaves))
  })
})

describe('inclusion proofs', () => {
  it('for every leaf of every tree of size 1..64 equal RFC 6962 PATH and verify', () => {
    for (let n = 1; n <= 64; n++) {
      const leaves = leavesOf(n)
      const root = merkleRoot(leaves)
      const proofs = merkleProofs(leaves)
      expect(proofs).toHaveLength(n)
      const bad: string[] = []
      for (let i = 0; i < n; i++) {
        const proof = proofs[i] as InclusionProof
        const expected = path(i, leaves).map(s => Buffer.from(s.hash).toString('hex')).join()
        if (proof.index !== i || proof.siblings.map(s => Buffer.from(s).toString('hex')).join() !== expected) bad.push(`size ${n} leaf ${i}: not PATH`)
        if (!verifyInclusion(leaves[i] as Uint8Array, proof, n, root)) bad.push(`size ${n} leaf ${i}: refused`)
      }
      expect(bad).toEqual([])
      expect(merkleProof(leaves, n - 1)).toEqual(proofs[n - 1])
    }
  })

  it('verify for a sample of leaves of larger trees (100, 255, 256, 257, 999, 1000)', () => {
    const rng = new Rng(6962)
    for (const n of [100, 255, 256, 257, 999, 1000]) {
      const leaves = leavesOf(n)
      const root = mth(leaves)
      const proofs = merkleProofs(leaves)
      for (const i of sampleIndices(n, rng)) {
        const proof = proofs[i] as InclusionProof
        expect(proof.siblings, `size ${n} leaf ${i}`).toEqual(path(i, leaves).map(s => s.hash))
        expect(verifyInclusion(leaves[i] as Uint8Array, proof, n, root), `size ${n} leaf ${i}`).toBe(true)
        expect(verifyInclusion(leaves[(i + 1) % n] as Uint8Array, proof, n, root)).toBe(false)
      }
    }
  })

  it('merkleProof refuses an index outside the tree', () => {
    expect(() => merkleProof(leavesOf(3), 3)).toThrow(RangeError)
    expect(() => merkleProof(leavesOf(3), -1)).toThrow(RangeError)
    expect(() => merkleProof([], 0)).toThrow(RangeError)
  })
})

describe('verifyInclusion refuses tampered proofs', () => {
  const sizes = [...Array.from({ length: 64 }, (_, i) => i + 1), 257, 1000]
  const rng = new Rng(9162)
  const cases = sizes.flatMap(n => {
    const leaves = leavesOf(n)
    const proofs = merkleProofs(leaves)
    const indices = n <= 64 ? [...Array(n).keys()] : sampleIndices(n, rng)
    return [{ n, leaves, root: merkleRoot(leaves), proofs, indices }]
  })

  it('with any byte of any sibling changed', () => {
    const accepted: string[] = []
    for (const { n, leaves, root, proofs, indices } of cases) {
      for (const i of indices) {
        const proof = proofs[i] as InclusionProof
        proof.siblings.forEach((s, k) => {
          for (const at of [0, 31]) {
            const siblings = proof.siblings.map((x, j) => j === k ? flipped(s, at) : x)
            if (verifyInclusion(leaves[i] as Uint8Array, withSiblings(proof, siblings), n, root)) accepted.push(`size ${n} leaf ${i} sibling ${k} byte ${at}`)
          }
        })
      }
    }
    expect(accepted).toEqual([])
  })

  it('with a wrong index', () => {
    const accepted: string[] = []
    for (const { n, leaves, root, proofs, indices } of cases) {
      for (const i of indices) {
        const proof = proofs[i] as InclusionProof
        // every other index for small trees, a sample for the rest; plus indices past the end and non-integers
        const others = n <= 32 ? [...Array(n + 2).keys()] : [...sampleIndices(n, rng), n, n + 1]
        for (const j of [...others, -1, 0.5, Number.NaN, 2 ** 53]) {
          if (j === i) continue
          if (verifyInclusion(leaves[i] as Uint8Array, { index: j, siblings: proof.siblings }, n, root)) accepted.push(`size ${n} leaf ${i} as ${j}`)
        }
      }
    }
    expect(accepted).toEqual([])
  })

  it('with a wrong tree size, unless the proof has the same shape in both (the size is authenticated by the signed header)', () => {
    const wrong: string[] = []
    let refusedCount = 0
    for (const { n, leaves, root, proofs, indices } of cases) {
      for (const i of indices) {
        const proof = proofs[i] as InclusionProof
        const sizes = n <= 24 ? Array.from({ length: n + 8 }, (_, k) => k + 1) : [1, i, i + 1, n - 1, n + 1, n + 2, 2 * n, Math.floor(n / 2)]
        for (const m of [...sizes, 0, -1, 1.5, Number.NaN, 2 ** 53]) {
          if (m === n) continue
          const sameShape = Number.isInteger(m) && i < m && m < 2 ** 53 && shape(i, m) === shape(i, n)
          if (verifyInclusion(leaves[i] as Uint8Array, proof, m, root) !== sameShape) wrong.push(`size ${n} leaf ${i} as size ${m}`)
          if (!sameShape) refusedCount++
        }
      }
    }
    expect(wrong).toEqual([])
    expect(refusedCount).toBeGreaterThan(5_000)
  })

  it('with an extra or a missing sibling', () => {
    const extra = H(new TextEncoder().encode('extra'))
    const accepted: string[] = []
    for (const { n, leaves, root, proofs, indices } of cases) {
      for (const i of indices) {
        const proof = proofs[i] as InclusionProof
        const leaf = leaves[i] as Uint8Array
        const variants = [[...proof.siblings, extra], [extra, ...proof.siblings], [...proof.siblings, root]]
        if (proof.siblings.length > 0) {
          variants.push(proof.siblings.slice(1), proof.siblings.slice(0, -1), [...proof.siblings, proof.siblings[proof.siblings.length - 1] as Uint8Array])
        }
        for (const [v, siblings] of variants.entries()) {
          if (verifyInclusion(leaf, withSiblings(proof, siblings), n, root)) accepted.push(`size ${n} leaf ${i} variant ${v}`)
        }
      }
    }
    expect(accepted).toEqual([])
  })

  it('for a leaf of another tree, or against another root', () => {
    for (const { n, leaves, root, proofs, indices } of cases) {
      const other = leavesOf(n, 'other')
      const otherRoot = merkleRoot(other)
      for (const i of indices) {
        expect(verifyInclusion(other[i] as Uint8Array, proofs[i] as InclusionProof, n, root)).toBe(false)
        expect(verifyInclusion(leaves[i] as Uint8Array, proofs[i] as InclusionProof, n, otherRoot)).toBe(false)
      }
    }
  })

  it('against a root of the wrong length', () => {
    const leaves = leavesOf(4)
    const root = merkleRoot(leaves)
    expect(verifyInclusion(leaves[0] as Uint8Array, merkleProof(leaves, 0), 4, root.subarray(0, 31))).toBe(false)
    expect(verifyInclusion(leaves[0] as Uint8Array, merkleProof(leaves, 0), 4, new Uint8Array([...root, 0]))).toBe(false)
  })
})
