/**
 * Records waiting for a block, de-duplicated by record id, in arrival order, with a hard bound:
 * a batch that does not fit is refused whole (MEMPOOL_FULL) so the caller can retry elsewhere.
 * Records already on chain are kept out by the machine's committed-id lookup, not here.
 */
import { rejected } from './errors.js'
import { idKey, recordId, toHex } from './ids.js'
import type { LedgerRecord } from './types.js'

export interface PendingRecord { id: Uint8Array, record: LedgerRecord }

export class Mempool {
  /** By idKey(id). */
  private readonly pending = new Map<string, PendingRecord>()

  constructor (readonly capacity: number) {}

  get size (): number {
    return this.pending.size
  }

  has (id: Uint8Array): boolean {
    return this.pending.has(idKey(id))
  }

  get (id: Uint8Array): LedgerRecord | undefined {
    return this.pending.get(idKey(id))?.record
  }

  /** Adds the records not yet present; refuses the whole batch if they would not all fit. Returns the new ones. */
  addAll (records: readonly LedgerRecord[]): LedgerRecord[] {
    const fresh = this.fresh(records)
    if (this.pending.size + fresh.size > this.capacity) {
      throw rejected('MEMPOOL_FULL', `mempool holds ${this.pending.size} of ${this.capacity} records; ${fresh.size} more do not fit`, { size: this.pending.size, capacity: this.capacity })
    }
    const added: LedgerRecord[] = []
    for (const [key, p] of fresh) { this.pending.set(key, p); added.push(p.record) }
    return added
  }

  /** Adds what fits and silently drops the rest: for gossip, where nobody waits for an answer. */
  addWhatFits (records: readonly LedgerRecord[]): void {
    for (const [key, p] of this.fresh(records)) {
      if (this.pending.size >= this.capacity) return
      this.pending.set(key, p)
    }
  }

  /** Up to `max` records in arrival order. */
  take (max: number): PendingRecord[] {
    const out: PendingRecord[] = []
    for (const p of this.pending.values()) {
      if (out.length >= max) break
      out.push(p)
    }
    return out
  }

  /** Forget records that are now on chain. */
  removeCommitted (ids: readonly Uint8Array[]): void {
    for (const id of ids) this.pending.delete(idKey(id))
  }

  /** Hex ids of the records waiting, in arrival order. */
  ids (): string[] {
    return [...this.pending.values()].map(p => toHex(p.id))
  }

  /** The records not yet present, in order, by key. */
  private fresh (records: readonly LedgerRecord[]): Map<string, PendingRecord> {
    const out = new Map<string, PendingRecord>()
    for (const record of records) {
      const id = recordId(record)
      const key = idKey(id)
      if (this.pending.has(key) || out.has(key)) continue
      out.set(key, { id, record })
    }
    return out
  }
}
