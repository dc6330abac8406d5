/**
 * Identifiers derived from canonical bytes: a block header's hash, a genesis hash, and the hex
 * and map-key forms of ids. Each hash is domain-separated so that one kind of object can never
 * be passed off as another.
 */
import { encode } from './codec.js'
import { DOMAIN, taggedHash } from './hash.js'
import type { BlockHeader, Genesis } from './types.js'

export function headerHash (header: BlockHeader): Uint8Array {
  return taggedHash(DOMAIN.blockHeader, encode(header))
}

/**
 * The hash that names a network: over the canonical CBOR of the genesis as its schema reads it
 * (GenesisSchema), so the layout of a genesis file (whitespace, key order, number spelling) does
 * not change it, while any value in it (chain id, time, a key, a name, a service, a parameter) does.
 * Every header carries it, and its hex is the genesis fingerprint users pin (genesis-fingerprint.ts).
 */
export function genesisHash (genesis: Genesis): Uint8Array {
  return taggedHash(DOMAIN.genesis, encode(genesis))
}

/** Which network a block belongs to: what every header of it names. */
export interface ChainIdentity { chainId: string, genesisHash: Uint8Array }

export function chainOf (genesis: Genesis): ChainIdentity {
  return { chainId: genesis.chainId, genesisHash: genesisHash(genesis) }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
// Node's native slicers make flat strings, where concatenation leaves ropes that every map lookup
// must flatten first. They take any byte view: called directly, they spare the Buffer wrapper
// per call (half the cost of Buffer.from(...).toString()).
interface NodeSlicers { hexSlice?: (this: Uint8Array, start: number, end: number) => string, latin1Slice?: (this: Uint8Array, start: number, end: number) => string }
const nodeSlicers = (globalThis as { Buffer?: { prototype: NodeSlicers } }).Buffer?.prototype
const hexSlice = typeof nodeSlicers?.hexSlice === 'function' ? nodeSlicers.hexSlice : undefined
const latin1Slice = typeof nodeSlicers?.latin1Slice === 'function' ? nodeSlicers.latin1Slice : undefined

export function toHex (bytes: Uint8Array): string {
  if (hexSlice !== undefined) return hexSlice.call(bytes, 0, bytes.length)
  let out = ''
  for (const b of bytes) out += HEX[b]
  return out
}

/**
 * A map key for an id: one character per byte, half the length of hex, so cheaper to make, hash
 * and hold. Only for keys inside one process: it is not text anyone should read.
 */
export function idKey (bytes: Uint8Array): string {
  if (latin1Slice !== undefined) return latin1Slice.call(bytes, 0, bytes.length)
  return String.fromCharCode(...bytes)
}

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer

export function fromHex (hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) throw new TypeError('not lowercase hex of whole bytes')
  if (NodeBuffer !== undefined) return new Uint8Array(NodeBuffer.from(hex, 'hex'))
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}
