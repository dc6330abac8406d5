/**
 * RFC 6962 / RFC 9162 Merkle tree over a block's leaves (entries.ts: leafBytes, 34 bytes each:
 * the submitting service's index and the entry). Leaves and inner nodes are hashed
 * with distinct prefixes (0x00, 0x01) and the tree is split at the largest power of two, so an
 * odd leaf count or a duplicated last leaf yields a different root and no forged proof.
 */
import { sha256, sha256Into } from './hash.js'
import type { InclusionProof } from './types.js'

const LEAF = Uint8Array.of(0)
const NODE = Uint8Array.of(1)
const EMPTY_ROOT = sha256(new Uint8Array(0))

export const leafHash = (leaf: Uint8Array): Uint8Array => sha256(LEAF, leaf)
export const nodeHash = (left: Uint8Array, right: Uint8Array): Uint8Array => sha256(NODE, left, right)

const HASH_BYTES = 32

/**
 * Root over leaves; iterative so 10k leaves do not recurse. Equal to RFC 9162 MTH. One buffer
 * holds a level's hashes, each level written over the one below it (node i of a level is written
 * after nodes 2i and 2i+1 below were read), so a root costs no array per node.
 */
export function merkleRoot (leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_ROOT
  const hashes = new Uint8Array(leaves.length * HASH_BYTES)
  let input = new Uint8Array(0)
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i] as Uint8Array
    // A block's leaves are all 34 bytes: one input buffer serves every leaf.
    if (input.length !== 1 + leaf.length) input = new Uint8Array(1 + leaf.length)
    input[0] = LEAF[0] as number
    input.set(leaf, 1)
    sha256Into(input, hashes, i * HASH_BYTES)
  }
  const pair = new Uint8Array(1 + 2 * HASH_BYTES)
  pair[0] = NODE[0] as number
  // Pairing left to right and carrying an odd last node up unchanged builds the same tree as splitting at the largest power of two.
  for (let count = leaves.length; count > 1;) {
    let next = 0
    for (let i = 0; i + 1 < count; i += 2) {
      for (let k = 0; k < 2 * HASH_BYTES; k++) pair[1 + k] = hashes[i * HASH_BYTES + k] as number
      sha256Into(pair, hashes, next++ * HASH_BYTES)
    }
    if (count % 2 === 1) hashes.copyWithin(next++ * HASH_BYTES, (count - 1) * HASH_BYTES, count * HASH_BYTES)
    count = next
  }
  return hashes.slice(0, HASH_BYTES)
}

/** Inclusion proofs for every leaf, sharing the work of building the tree once. */
export function merkleProofs (leaves: readonly Uint8Array[]): InclusionProof[] {
  return merkleTree(leaves).proofs
}

/** The root and every leaf's inclusion proof, from one pass over the tree. */
export function merkleTree (leaves: readonly Uint8Array[]): { root: Uint8Array, proofs: InclusionProof[] } {
  if (leaves.length === 0) return { root: EMPTY_ROOT, proofs: [] }
  const proofs: InclusionProof[] = leaves.map((_, index) => ({ index, siblings: [] }))
  let level = leaves.map(leafHash)
  // members[i] = the leaf indices under node i of the current level
  let members: number[][] = leaves.map((_, i) => [i])
  while (level.length > 1) {
    const next: Uint8Array[] = []
    const nextMembers: number[][] = []
    for (let i = 0; i + 1 < level.length; i += 2) {
      const left = level[i] as Uint8Array
      const right = level[i + 1] as Uint8Array
      for (const m of members[i] as number[]) (proofs[m] as InclusionProof).siblings.push(right)
      for (const m of members[i + 1] as number[]) (proofs[m] as InclusionProof).siblings.push(left)
      next.push(nodeHash(left, right))
      nextMembers.push([...(members[i] as number[]), ...(members[i + 1] as number[])])
    }
    if (level.length % 2 === 1) {
      next.push(level[level.length - 1] as Uint8Array)
      nextMembers.push(members[members.length - 1] as number[])
    }
    level = next
    members = nextMembers
  }
  return { root: level[0] as Uint8Array, proofs }
}

export function merkleProof (leaves: readonly Uint8Array[], index: number): InclusionProof {
  const proof = merkleProofs(leaves)[index]
  if (proof === undefined) throw new RangeError(`leaf index ${index} out of range 0..${leaves.length - 1}`)
  return proof
}

/**
 * RFC 9162 section 2.1.3.2: recompute the root from a leaf, its index, the tree size and the
 * siblings. Fails unless the path length is exactly the one the (index, size) pair requires.
 */
export function verifyInclusion (leaf: Uint8Array, proof: InclusionProof, treeSize: number, root: Uint8Array): boolean {
  const { index, siblings } = proof
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false
  let fn = index
  let sn = treeSize - 1
  let r = leafHash(leaf)
  for (const p of siblings) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2) }
      }
    } else {
      r = nodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  if (sn !== 0) return false
  return r.length === root.length && r.every((b, i) => b === root[i])
}
