/**
 * The service's LevelDB: the bytes clients handed over, one item per ledger record (owner,
 * record, status, certificate) and an outbox of items still waiting for a certificate. An item's
 * id is its record id, so the id a client holds can be checked against its certificate. Storing
 * (data + item + outbox entry) and certifying (certificate in, outbox entry out) are each one
 * synced atomic batch, so a crash at any point leaves either the old state or the new one.
 */
import { Level } from 'level'
import { z } from 'zod'
import { decode, encode } from '../consensus/codec.js'
import { recordId, toHex } from '../consensus/ids.js'
import { LIMITS } from '../consensus/limits.js'
import { CertificateSchema, LedgerRecordSchema, boundedText, uint, type Certificate, type LedgerRecord } from '../consensus/types.js'

/** Key prefixes: one byte, then fixed-width parts. */
enum Prefix {
  /** 0x01 itemId(32) -> the data bytes exactly as uploaded */
  Data = 0x01,
  /** 0x02 itemId(32) -> StoredItem (canonical CBOR) */
  Item = 0x02,
  /** 0x03 createdAt(u64 BE) itemId(32) -> empty: items awaiting a certificate, oldest first */
  Outbox = 0x03
}

const StoredItemSchema = z.strictObject({
  v: z.literal(1),
  client: boundedText(LIMITS.ownerChars),
  record: LedgerRecordSchema,
  status: z.enum(['pending', 'certified']),
  certificate: CertificateSchema.nullable(),
  createdAt: uint,
  /** False for a hash anchored without its data. */
  hasData: z.boolean()
})
type StoredItem = z.infer<typeof StoredItemSchema>

export type ItemStatus = StoredItem['status']

export interface Item extends Omit<StoredItem, 'v'> {
  /** The record id: SHA-256 (domain-separated) of the record's canonical bytes. */
  id: Uint8Array
}

export interface NewItem {
  client: string
  record: LedgerRecord
  createdAt: number
}

const EMPTY = new Uint8Array(0)
const ITEM_MAX_BYTES = 64 * 1024

function key (prefix: Prefix, ...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0))
  out[0] = prefix
  let at = 1
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

function u64 (n: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}

/** Key of an item's data; exported so tests can tamper with stored bytes the way an intruder would. */
export const dataKey = (id: Uint8Array): Uint8Array => key(Prefix.Data, id)
const itemKey = (id: Uint8Array): Uint8Array => key(Prefix.Item, id)
const outboxKey = (createdAt: number, id: Uint8Array): Uint8Array => key(Prefix.Outbox, u64(createdAt), id)

export class ServiceStore {
  private readonly db: Level<Uint8Array, Uint8Array>
  private readonly locks = new KeyedLock()

  private queued: Array<{ input: NewItem, data?: Uint8Array, resolve: (r: { item: Item, created: boolean }) => void, reject: (err: unknown) => void }> = []

  constructor (readonly path: string) {
    this.db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
  }

  async open (): Promise<void> { await this.db.open() }
  async close (): Promise<void> { await this.db.close() }

  /**
   * Store a new item (and its data, if any) with its outbox entry. Storing the same record again
   * is idempotent and returns the existing item (`created: false`). Concurrent calls are grouped
   * into one synced batch (group commit): one disk sync serves every request of the moment.
   */
  async putItem (input: NewItem, data?: Uint8Array): Promise<{ item: Item, created: boolean }> {
    return await new Promise((resolve, reject) => {
      this.queued.push({ input, data, resolve, reject })
      if (this.queued.length === 1) setImmediate(() => { this.flushQueued() })
    })
  }

  private flushQueued (): void {
    const batch = this.queued.splice(0)
    this.putItems(batch).then(
      results => batch.forEach((q, i) => q.resolve(results[i] as { item: Item, created: boolean })),
      err => batch.forEach(q => q.reject(err))
    )
  }

  /** Store many items in one synced batch; each entry as putItem would. */
  async putItems (entries: ReadonlyArray<{ input: NewItem, data?: Uint8Array }>): Promise<Array<{ item: Item, created: boolean }>> {
    const ids = entries.map(e => recordId(e.input.record))
    return await this.locks.run(ids.map(toHex), async () => {
      const stored = await this.db.getMany(ids.map(itemKey))
      const ops: Array<{ type: 'put', key: Uint8Array, value: Uint8Array }> = []
      // Items decided in this batch, so a record twice in one batch is stored once.
      const seen = new Map<string, Item>()
      const results = entries.map(({ input, data }, i) => {
        const id = ids[i] as Uint8Array
        const key = toHex(id)
        const bytes = stored[i]
        const existing = seen.get(key) ?? (bytes === undefined ? undefined : decodeItem(id, bytes))
        if (existing !== undefined && (existing.hasData || data === undefined)) return { item: existing, created: false }
        if (existing !== undefined && data !== undefined) {
          // Same record first anchored as a bare hash, now with its bytes: attach them, keep the status.
          const item: Item = { ...existing, hasData: true }
          ops.push({ type: 'put', key: dataKey(id), value: data }, { type: 'put', key: itemKey(id), value: encodeItem(item) })
          seen.set(key, item)
          return { item, created: false }
        }
        const item: Item = { id, ...input, status: 'pending', certificate: null, hasData: data !== undefined }
        if (data !== undefined) ops.push({ type: 'put', key: dataKey(id), value: data })
        ops.push({ type: 'put', key: itemKey(id), value: encodeItem(item) }, { type: 'put', key: outboxKey(item.createdAt, id), value: EMPTY })
        seen.set(key, item)
        return { item, created: true }
      })
      if (ops.length > 0) await this.db.batch(ops, { sync: true })
      return results
    })
  }

  async getItem (id: Uint8Array): Promise<Item | undefined> {
    const bytes = await this.db.get(itemKey(id))
    return bytes === undefined ? undefined : decodeItem(id, bytes)
  }

  async getData (id: Uint8Array): Promise<Uint8Array | undefined> {
    return await this.db.get(dataKey(id))
  }

  /** Up to `limit` items of the outbox, oldest first, leaving out the ids (hex) in `skip`. */
  async pending (limit: number, skip: ReadonlySet<string> = new Set()): Promise<Item[]> {
    const ids: Uint8Array[] = []
    for await (const k of this.db.keys({ gte: Uint8Array.of(Prefix.Outbox), lt: Uint8Array.of(Prefix.Outbox + 1) })) {
      const id = k.subarray(9)
      if (skip.has(toHex(id))) continue
      ids.push(id)
      if (ids.length >= limit) break
    }
    if (ids.length === 0) return []
    const values = await this.db.getMany(ids.map(itemKey))
    const items: Item[] = []
    values.forEach((bytes, i) => {
      if (bytes === undefined) return
      const item = decodeItem(ids[i] as Uint8Array, bytes)
      // The key scan reads a snapshot: an item certified since then is no longer pending.
      if (item.status === 'pending') items.push(item)
    })
    return items
  }

  /** Record the certificate and take the item out of the outbox, in one synced batch. */
  async certify (id: Uint8Array, certificate: Certificate): Promise<Item | undefined> {
    return (await this.certifyMany([{ id, certificate }]))[0]
  }

  /** certify() for many items in one synced batch: a block's worth of certificates costs one disk sync. */
  async certifyMany (entries: ReadonlyArray<{ id: Uint8Array, certificate: Certificate }>): Promise<Array<Item | undefined>> {
    if (entries.length === 0) return []
    return await this.locks.run(entries.map(e => toHex(e.id)), async () => {
      const values = await this.db.getMany(entries.map(e => itemKey(e.id)))
      const ops: Array<{ type: 'put', key: Uint8Array, value: Uint8Array } | { type: 'del', key: Uint8Array }> = []
      const out = entries.map(({ id, certificate }, i) => {
        const bytes = values[i]
        if (bytes === undefined) return undefined
        const item = decodeItem(id, bytes)
        if (item.status === 'certified') return item
        const certified: Item = { ...item, status: 'certified', certificate }
        ops.push({ type: 'put', key: itemKey(id), value: encodeItem(certified) }, { type: 'del', key: outboxKey(item.createdAt, id) })
        return certified
      })
      if (ops.length > 0) await this.db.batch(ops, { sync: true })
      return out
    })
  }
}

function encodeItem (item: Item): Uint8Array {
  const { id: _id, ...rest } = item
  const stored: StoredItem = { v: 1, ...rest }
  return encode(stored)
}

function decodeItem (id: Uint8Array, bytes: Uint8Array): Item {
  const { v: _v, ...rest } = decode(StoredItemSchema, bytes, ITEM_MAX_BYTES)
  return { id, ...rest }
}

/**
 * Serialises async sections per key: a read-modify-write of one item never interleaves with
 * another of the same item. A section over several keys waits for all of them; it takes them all
 * at once, synchronously, so two sections can never each hold a key the other waits for.
 */
class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>()

  async run<T> (names: string | string[], fn: () => Promise<T>): Promise<T> {
    const keys = [...new Set(typeof names === 'string' ? [names] : names)]
    const previous = Promise.all(keys.map(async k => { await this.tails.get(k) }))
    const result = previous.then(fn)
    const tail = result.catch(() => {})
    for (const k of keys) this.tails.set(k, tail)
    try {
      return await result
    } finally {
      for (const k of keys) if (this.tails.get(k) === tail) this.tails.delete(k)
    }
  }
}
