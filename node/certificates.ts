/**
 * Builds certificates from the node's store. Services get block proofs (header, commit, every
 * record id of the block) for the records they ask about and build the certificates themselves;
 * single certificates (operator API, verify) carry the record, header, Merkle proof and commit.
 * The most recent blocks are kept with their record ids and proofs, because services ask for
 * every record of a block right after it commits.
 */
import { recordId } from '../consensus/ids.js'
import { merkleProofs } from '../consensus/merkle.js'
import type { BlockProof } from '../protocol/node-api.js'
import type { Certificate, InclusionProof, LedgerRecord } from '../consensus/types.js'
import type { ChainStore, StoredBlock } from './store/chain-store.js'
import { BoundedMap } from '../lib/bounded-map.js'

/** As few as the chain store keeps recent blocks, for the same reason: their records stay on the heap. */
const CACHED_BLOCKS = 4
/** Ids per certificate answer, over all its blocks (32 bytes each): the rest is asked for again. */
const MAX_IDS_PER_ANSWER = 100_000

interface CachedBlock {
  stored: StoredBlock
  proof: BlockProof
  /** Built on the first single-certificate request only: services do not need them. */
  proofs?: InclusionProof[]
}

export class CertificateIssuer {
  /** Promises, not values: a thousand requests for one block's records must load it once. */
  private readonly cache = new BoundedMap<number, Promise<CachedBlock | undefined>>(CACHED_BLOCKS)

  constructor (private readonly store: ChainStore) {}

  /** The certificate of a record, or null when it is not (yet) on this node's chain. */
  async certificate (id: Uint8Array): Promise<Certificate | null> {
    const at = await this.store.location(id)
    if (at === undefined) return null
    const entry = await this.block(at.height)
    const record = entry?.stored.block.records[at.index]
    if (entry === undefined || record === undefined) return null
    entry.proofs ??= merkleProofs(entry.proof.recordIds)
    const proof = entry.proofs[at.index]
    if (proof === undefined) return null
    const { block, commit } = entry.stored
    return { v: 1, chainId: block.header.chainId, record, header: block.header, proof, commit }
  }

  /** The record stored under `id` and the height of its block, without building any proof: what attestations and peers need. */
  async anchored (id: Uint8Array): Promise<{ record: LedgerRecord, height: number } | null> {
    const at = await this.store.location(id)
    if (at === undefined) return null
    const record = (await this.block(at.height))?.stored.block.records[at.index]
    return record === undefined ? null : { record, height: at.height }
  }

  /** The block proofs covering those of `ids` that are on chain, each block once, in height order. */
  async blockProofs (ids: Uint8Array[]): Promise<BlockProof[]> {
    const heights = new Set<number>()
    for (const at of await this.store.locations(ids)) if (at !== undefined) heights.add(at.height)
    const out: BlockProof[] = []
    let size = 0
    for (const height of [...heights].sort((a, b) => a - b)) {
      const entry = await this.block(height)
      if (entry === undefined) continue
      size += entry.proof.recordIds.length
      if (out.length > 0 && size > MAX_IDS_PER_ANSWER) break
      out.push(entry.proof)
    }
    return out
  }

  private async block (height: number): Promise<CachedBlock | undefined> {
    let entry = this.cache.get(height)
    if (entry === undefined) {
      entry = this.load(height)
      this.cache.set(height, entry)
    }
    return await entry
  }

  private async load (height: number): Promise<CachedBlock | undefined> {
    const stored = await this.store.block(height)
    if (stored === undefined) {
      this.cache.delete(height) // not committed yet: do not remember the miss
      return undefined
    }
    const { block, commit } = stored
    return { stored, proof: { header: block.header, commit, recordIds: block.records.map(recordId) } }
  }
}
