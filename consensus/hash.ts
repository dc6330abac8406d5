/**
 * SHA-256 and domain-separated hashing. Uses node:crypto where it exists (about twice as fast)
 * and @noble/hashes elsewhere (browsers), so the same code verifies certificates in both.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'

type NodeCrypto = typeof import('node:crypto')
// The specifier is a variable so that bundlers for the browser leave the import out: it only runs under Node.
const NODE_CRYPTO = 'node:crypto'
const nodeCrypto: NodeCrypto | undefined =
  typeof globalThis.process?.versions?.node === 'string' ? await import(/* @vite-ignore */ NODE_CRYPTO) as NodeCrypto : undefined

const utf8 = new TextEncoder()

/** Small multi-part inputs (Merkle nodes, tagged ids) are joined here and hashed in one call: a third cheaper than a streaming hash. */
const scratch = new Uint8Array(256)
/** Views of scratch by length, made once: a view costs about as much as the hash of a Merkle node. */
const scratchViews: Uint8Array[] = []

export function sha256 (...parts: Uint8Array[]): Uint8Array {
  if (nodeCrypto != null) {
    if (parts.length === 1) return digestBytes(nodeCrypto.hash('sha256', parts[0] as Uint8Array, 'binary'))
    let length = 0
    for (const p of parts) length += p.length
    if (length <= scratch.length) {
      let at = 0
      for (const p of parts) { scratch.set(p, at); at += p.length }
      return digestBytes(nodeCrypto.hash('sha256', scratchViews[length] ??= scratch.subarray(0, length), 'binary'))
    }
    const h = nodeCrypto.createHash('sha256')
    for (const p of parts) h.update(p)
    return new Uint8Array(h.digest())
  }
  const h = nobleSha256.create()
  for (const p of parts) h.update(p)
  return h.digest()
}

/** SHA-256 of `input` written into `out` at `offset`: many hashes (a Merkle level) without an array each. */
export function sha256Into (input: Uint8Array, out: Uint8Array, offset: number): void {
  if (nodeCrypto == null) {
    out.set(nobleSha256(input), offset)
    return
  }
  const binary = nodeCrypto.hash('sha256', input, 'binary')
  for (let i = 0; i < binary.length; i++) out[offset + i] = binary.charCodeAt(i)
}

/**
 * A digest handed over as a 'binary' (latin1) string, one char per byte, copied into fresh
 * bytes. Three times faster than a Buffer digest: a Buffer made by native code gets a backing
 * store of its own, while arrays of up to 64 bytes live on V8's heap.
 */
function digestBytes (binary: string): Uint8Array {
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < out.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

/** Hash with a textual domain tag so that bytes of one kind can never be taken for another. */
export function taggedHash (tag: string, ...parts: Uint8Array[]): Uint8Array {
  return sha256(utf8.encode(tag), new Uint8Array([0]), ...parts)
}

export const DOMAIN = {
  entry: 'trustnet/entry/v2',
  submission: 'trustnet/submission/v2',
  blockHeader: 'trustnet/header/v3',
  genesis: 'trustnet/genesis/v1',
  vote: 'trustnet/vote/v1',
  proposal: 'trustnet/proposal/v1'
} as const
