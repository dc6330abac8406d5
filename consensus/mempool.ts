/**
 * Submissions waiting for a block, held whole (a service's signature covers all its entries, so
 * a submission cannot be split), in arrival order, bounded in entries twice: in all, and per
 * service (its share), so one service filling the pool cannot keep the others' submissions out.
 * A batch that does not fit is refused whole (MEMPOOL_FULL, SERVICE_QUOTA) so the caller can retry
 * later or elsewhere. An index from each entry to the submissions holding it lets a commit drop
 * every submission it overlaps. Submissions with entries already on chain are kept out by the
 * machine's committed-entry lookup, not here.
 */
import { entryAt, entryCount } from './entries.js'
import { rejected } from './errors.js'
import { idKey, toHex } from './ids.js'
import type { ConsensusParams, Submission } from './types.js'

/**
 * Entries one service may have waiting: `maxServiceMempoolEntries` when the genesis sets it, else
 * the total bound split evenly between the registered services, so that however the others
 * behave each service can always fill its share (the shares add up to the total). At least one
 * block's worth, so a service can always fill a whole block: with more services than
 * maxMempoolEntries / maxBlockEntries the shares then overlap, and the total bound still holds.
 */
export function serviceShare (params: Pick<ConsensusParams, 'maxMempoolEntries' | 'maxBlockEntries' | 'maxServiceMempoolEntries'>, services: number): number {
  if (params.maxServiceMempoolEntries !== undefined) return params.maxServiceMempoolEntries
  return Math.max(params.maxBlockEntries, Math.floor(params.maxMempoolEntries / Math.max(1, services)))
}

export class Mempool {
  /**
   * By idKey(signature). Ed25519 signatures are deterministic and checked strictly, so the same
   * submission arriving twice has the same key, and a checked signature binds its entries.
   */
  private readonly pending = new Map<string, Submission>()
  /** idKey(entry) -> key of the pending submission holding it, or keys when several do (rare: no array per entry). */
  private readonly holders = new Map<string, string | string[]>()
  private entries = 0
  /** Entries held per service index. */
  private readonly perService = new Map<number, number>()

  /** `share`: entries one service may have waiting (serviceShare); unbounded but for the capacity when absent. */
  constructor (readonly capacity: number, readonly share = capacity) {}

  /** Entries held, over all pending submissions. */
  get size (): number {
    return this.entries
  }

  /** Number of pending submissions. */
  get submissions (): number {
    return this.pending.size
  }

  /** Whether some pending submission holds this entry. */
  holds (entry: Uint8Array): boolean {
    return this.holders.has(idKey(entry))
  }

  /** Entries held of one service's submissions. */
  heldBy (service: number): number {
    return this.perService.get(service) ?? 0
  }

  /**
   * Adds the submissions not yet present; refuses the whole batch, changing nothing, if they would
   * not all fit: MEMPOOL_FULL past the total capacity, SERVICE_QUOTA past a service's share. Both
   * pass as blocks commit. Returns the new ones.
   */
  addAll (submissions: readonly Submission[]): Submission[] {
    const fresh = this.fresh(submissions)
    let adding = 0
    const byService = new Map<number, number>()
    for (const s of fresh.values()) {
      adding += entryCount(s)
      byService.set(s.service, (byService.get(s.service) ?? 0) + entryCount(s))
    }
    if (this.entries + adding > this.capacity) {
      throw rejected('MEMPOOL_FULL', `mempool holds ${this.entries} of ${this.capacity} entries; ${adding} more do not fit`, { size: this.entries, capacity: this.capacity })
    }
    for (const [service, more] of byService) {
      const held = this.heldBy(service)
      if (held + more > this.share) {
        throw rejected('SERVICE_QUOTA', `service ${service} has ${held} of its ${this.share} entries waiting; ${more} more do not fit until blocks commit`, { service, size: held, share: this.share })
      }
    }
    for (const [key, s] of fresh) this.insert(key, s)
    return [...fresh.values()]
  }

  /** Adds what fits (in all and in its service's share) and silently drops the rest: for gossip, where nobody waits for an answer. Returns the new ones. */
  addWhatFits (submissions: readonly Submission[]): Submission[] {
    const added: Submission[] = []
    for (const [key, s] of this.fresh(submissions)) {
      const k = entryCount(s)
      if (this.entries + k > this.capacity || this.heldBy(s.service) + k > this.share) continue
      this.insert(key, s)
      added.push(s)
    }
    return added
  }

  /**
   * Whole submissions in arrival order, holding at most `maxEntries` entries together, none
   * repeating an entry of one taken before it (or its own): a block must not hold an entry twice.
   * One that does not fit the room left is passed over for smaller ones behind it.
   */
  take (maxEntries: number): Submission[] {
    const out: Submission[] = []
    const taken = new Set<string>()
    let room = maxEntries
    for (const s of this.pending.values()) {
      if (room === 0) break
      const k = entryCount(s)
      if (k > room) continue
      const mine = new Set<string>()
      let repeats = false
      for (let i = 0; i < k && !repeats; i++) {
        const key = idKey(entryAt(s, i))
        repeats = taken.has(key) || mine.has(key)
        mine.add(key)
      }
      if (repeats) continue
      for (const key of mine) taken.add(key)
      out.push(s)
      room -= k
    }
    return out
  }

  /** Drop every pending submission holding one of these (now committed) entries. */
  removeCommitted (entries: readonly Uint8Array[]): void {
    if (this.pending.size === 0) return
    for (const entry of entries) {
      const keys = this.holders.get(idKey(entry))
      if (keys === undefined) continue
      if (typeof keys === 'string') this.remove(keys)
      else for (const key of [...keys]) this.remove(key)
    }
  }

  /** Hex signatures of the submissions waiting, in arrival order. */
  ids (): string[] {
    return [...this.pending.values()].map(s => toHex(s.signature))
  }

  private insert (key: string, s: Submission): void {
    this.pending.set(key, s)
    this.entries += entryCount(s)
    this.perService.set(s.service, this.heldBy(s.service) + entryCount(s))
    for (let i = 0; i < entryCount(s); i++) {
      const entry = idKey(entryAt(s, i))
      const keys = this.holders.get(entry)
      if (keys === undefined) this.holders.set(entry, key)
      else if (typeof keys === 'string') { if (keys !== key) this.holders.set(entry, [keys, key]) }
      else if (!keys.includes(key)) keys.push(key)
    }
  }

  private remove (key: string): void {
    const s = this.pending.get(key)
    if (s === undefined) return
    this.pending.delete(key)
    this.entries -= entryCount(s)
    const left = this.heldBy(s.service) - entryCount(s)
    if (left === 0) this.perService.delete(s.service)
    else this.perService.set(s.service, left)
    for (let i = 0; i < entryCount(s); i++) {
      const entry = idKey(entryAt(s, i))
      const keys = this.holders.get(entry)
      if (keys === undefined || keys === key) {
        this.holders.delete(entry)
        continue
      }
      if (typeof keys === 'string') continue
      const rest = keys.filter(k => k !== key)
      this.holders.set(entry, rest.length === 1 ? rest[0] as string : rest)
    }
  }

  /** The submissions not yet present, in order, by key. */
  private fresh (submissions: readonly Submission[]): Map<string, Submission> {
    const out = new Map<string, Submission>()
    for (const s of submissions) {
      const key = idKey(s.signature)
      if (this.pending.has(key) || out.has(key)) continue
      out.set(key, s)
    }
    return out
  }
}
