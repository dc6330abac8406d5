/**
 * Builds certificates from the node's store: the record, its block's header, the Merkle proof and
 * the commit. Proofs for a whole block are computed once and kept for the most recent blocks,
 * because services ask for every record of a block right after it commits.
 */
import { recordId } from '../consensus/ids.js'
import { merkleProofs } from '../consensus/merkle.js'
import type { Certificate, InclusionProof } from '../consensus/types.js'
import type { ChainStore, StoredBlock } from './store/chain-store.js'

const CACHED_BLOCKS = 16

interface CachedBlock { stored: StoredBlock, proofs: InclusionProof[] }

export class CertificateIssuer {
  /** Promises, not values: a thousand requests for one block's records must load and hash it once. */
  private readonly cache = new Map<number, Promise<CachedBlock | undefined>>()

  constructor (private readonly store: ChainStore) {}

  /** The certificate of a record, or null when it is not (yet) on this node's chain. */
  async certificate (id: Uint8Array): Promise<Certificate | null> {
    const at = await this.store.location(id)
    if (at === undefined) return null
    const entry = await this.block(at.height)
    const record = entry?.stored.block.records[at.index]
    const proof = entry?.proofs[at.index]
    if (entry === undefined || record === undefined || proof === undefined) return null
    const { block, commit } = entry.stored
    return { v: 1, chainId: block.header.chainId, record, header: block.header, proof, commit }
  }

  private async block (height: number): Promise<CachedBlock | undefined> {
    let entry = this.cache.get(height)
    if (entry === undefined) {
      entry = this.load(height)
      this.cache.set(height, entry)
      for (const key of this.cache.keys()) {
        if (this.cache.size <= CACHED_BLOCKS) break
        this.cache.delete(key)
      }
    }
    return await entry
  }

  private async load (height: number): Promise<CachedBlock | undefined> {
    const stored = await this.store.block(height)
    if (stored === undefined) {
      this.cache.delete(height) // not committed yet: do not remember the miss
      return undefined
    }
    return { stored, proofs: merkleProofs(stored.block.records.map(recordId)) }
  }
}
