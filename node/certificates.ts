/**
 * What services ask of the node's chain: the sealed blocks (block and commit) holding some
 * entries, from which a service builds its certificates, and what is anchored at a place, which a
 * verify attestation compares. The most recent blocks are kept loaded, because services ask for
 * the entries of a block right after it commits, and verify a certificate's block many times over.
 */
import { equalBytes } from '../consensus/codec.js'
import type { AttestationOutcome, SealedBlock } from '../protocol/node-api.js'
import { leafAt, type ChainStore } from './store/chain-store.js'
import { BoundedMap } from '../lib/bounded-map.js'

/** As few as the chain store keeps recent blocks, for the same reason: each is up to ~650 KB of heap. */
const CACHED_BLOCKS = 4
/** Entries per certificate answer, over all its blocks (32 bytes each): the rest is asked for again. */
const MAX_ENTRIES_PER_ANSWER = 100_000

/** The entry anchored at a place of the chain (null: no such place), and how a presented one compares. */
export interface Anchored { anchored: Uint8Array | null, outcome: AttestationOutcome }

export class CertificateIssuer {
  /** Promises, not values: a thousand requests for one block's entries must load it once. */
  private readonly cache = new BoundedMap<number, Promise<SealedBlock | undefined>>(CACHED_BLOCKS)

  constructor (private readonly store: ChainStore) {}

  /** The sealed blocks holding those of `entries` that are on chain, each block once, in height order. */
  async blocks (entries: readonly Uint8Array[]): Promise<SealedBlock[]> {
    const heights = new Set<number>()
    for (const at of await this.store.locations(entries)) if (at !== undefined) heights.add(at.height)
    const out: SealedBlock[] = []
    let size = 0
    for (const height of [...heights].sort((a, b) => a - b)) {
      const sealed = await this.block(height)
      if (sealed === undefined) continue
      size += sealed.block.header.entryCount
      if (out.length > 0 && size > MAX_ENTRIES_PER_ANSWER) break
      out.push(sealed)
    }
    return out
  }

  /**
   * Compares `entry` with the one anchored at (height, index). The common case, a match, costs
   * one index lookup; a mismatch reads the block (through the cache) to name what is there.
   */
  async compare (entry: Uint8Array, height: number, index: number): Promise<Anchored> {
    const at = await this.store.location(entry)
    if (at !== undefined && at.height === height && at.index === index) return { anchored: entry, outcome: 'match' }
    const sealed = await this.block(height)
    const leaf = sealed === undefined ? undefined : leafAt(sealed.block, index)
    if (leaf === undefined) return { anchored: null, outcome: 'not-found' }
    // A copy: the attestation outlives the cached block's bytes.
    const anchored = Uint8Array.from(leaf.entry)
    return { anchored, outcome: equalBytes(anchored, entry) ? 'match' : 'mismatch' }
  }

  private async block (height: number): Promise<SealedBlock | undefined> {
    let sealed = this.cache.get(height)
    if (sealed === undefined) {
      sealed = this.load(height)
      this.cache.set(height, sealed)
    }
    return await sealed
  }

  private async load (height: number): Promise<SealedBlock | undefined> {
    const stored = await this.store.block(height)
    if (stored === undefined) this.cache.delete(height) // not committed yet: do not remember the miss
    return stored
  }
}
