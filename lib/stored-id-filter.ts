/**
 * Which record ids may be on chain, kept in memory: a Bloom filter whose bit positions are read
 * from the ids themselves. Record ids are SHA-256 outputs, evenly spread, so each of their first
 * seven 32-bit words already is an independent hash of the record and a lookup hashes nothing.
 * "No" is certain and spares a LevelDB read (about 8 µs per id, every id of every submitted
 * batch); "maybe" (every id added, and a few others) is for the store to settle. In the default
 * 4 MiB, false positives stay near 0.2% up to 2.5 million ids, 5% at 5 million, and the filter
 * fades into reading the store for every id as the chain grows beyond.
 */
import type { Level } from 'level'
import { prefixedKey } from './bytes.js'

const WORDS_USED = 7

export class IdFilter {
  private readonly bits: Uint32Array
  private readonly mask: number
  private count = 0

  /** `log2Bits`: the filter holds 2^log2Bits bits (default 2^25, 4 MiB). */
  constructor (log2Bits = 25) {
    if (!Number.isInteger(log2Bits) || log2Bits < 5 || log2Bits > 32) throw new RangeError('log2Bits must be an integer from 5 to 32')
    this.bits = new Uint32Array(2 ** (log2Bits - 5))
    this.mask = 2 ** log2Bits - 1
  }

  /** Ids added so far. */
  get size (): number { return this.count }

  add (id: Uint8Array): void {
    checkLength(id)
    for (let i = 0; i < WORDS_USED; i++) {
      const bit = this.position(id, i)
      this.bits[bit >>> 5] = (this.bits[bit >>> 5] as number) | (1 << (bit & 31))
    }
    this.count++
  }

  /** False only if `id` was never added. */
  mayHave (id: Uint8Array): boolean {
    checkLength(id)
    for (let i = 0; i < WORDS_USED; i++) {
      const bit = this.position(id, i)
      if (((this.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false
    }
    return true
  }

  /** The id's i-th big-endian 32-bit word, cut to the filter's size. */
  private position (id: Uint8Array, i: number): number {
    const at = 4 * i
    const word = ((id[at] as number) << 24) | ((id[at + 1] as number) << 16) | ((id[at + 2] as number) << 8) | (id[at + 3] as number)
    return (word & this.mask) >>> 0
  }
}

function checkLength (id: Uint8Array): void {
  if (id.length < 4 * WORDS_USED) throw new RangeError(`an id must have at least ${4 * WORDS_USED} bytes`)
}

/**
 * An IdFilter of the ids stored under one key prefix of a LevelDB (keys: the prefix byte, then
 * the id). It fills itself from the store in the background (about 3 s per million keys); ids
 * written after start() must be added by the store's owner. Until the fill completes, every id is
 * a candidate, so answers stay exact while it runs, and if it fails or the store closes first.
 */
export class StoredIdFilter {
  private readonly filter: IdFilter
  private complete = false
  private filling: Promise<void> = Promise.resolve()
  private stopping = false

  constructor (private readonly db: Level<Uint8Array, Uint8Array>, private readonly prefix: number, log2Bits?: number) {
    this.filter = new IdFilter(log2Bits)
  }

  /** Begins filling from the open store: every key there now, and add() for later writes. */
  start (): void {
    this.stopping = false
    this.complete = false
    this.filling = this.fill()
  }

  /** Ends the fill early; resolves once the store is no longer read. */
  async stop (): Promise<void> {
    this.stopping = true
    await this.filling
  }

  add (id: Uint8Array): void {
    this.filter.add(id)
  }

  /** The value stored under each id (undefined if none), reading only the ids the filter cannot rule out. */
  async values (ids: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
    const out: Array<Uint8Array | undefined> = ids.map(() => undefined)
    const candidates = this.complete ? ids.flatMap((id, i) => this.filter.mayHave(id) ? [i] : []) : ids.map((_, i) => i)
    if (candidates.length === 0) return out
    const values = await this.db.getMany(candidates.map(i => prefixedKey(this.prefix, ids[i] as Uint8Array)))
    values.forEach((bytes, k) => { out[candidates[k] as number] = bytes })
    return out
  }

  /**
   * Whether `id` is stored, without waiting: a filter "no" answers at once, a "maybe" reads the
   * store synchronously (blocking the event loop for one LevelDB read, rare for new ids).
   */
  hasSync (id: Uint8Array): boolean {
    if (this.complete && !this.filter.mayHave(id)) return false
    return this.db.getSync(prefixedKey(this.prefix, id)) !== undefined
  }

  /** Resolves once the fill has ended: true if the filter is complete. */
  async ready (): Promise<boolean> {
    await this.filling
    return this.complete
  }

  private async fill (): Promise<void> {
    // A LevelDB iterator reads a snapshot: keys written after this point come through add().
    const keys = this.db.keys({ gte: Uint8Array.of(this.prefix), lt: Uint8Array.of(this.prefix + 1) })
    try {
      for (;;) {
        if (this.stopping) return
        const batch = await keys.nextv(1000)
        if (batch.length === 0) break
        for (const key of batch) this.filter.add(key.subarray(1))
      }
      this.complete = true
    } catch {
      // The filter stays incomplete and every id stays a candidate: slower, never wrong.
    } finally {
      await keys.close().catch(() => undefined)
    }
  }
}
