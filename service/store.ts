/**
 * The service's LevelDB: the bytes clients handed over; one item per anchored piece of data
 * (owner, record, the random salt drawn for it); an outbox of items still waiting for a
 * certificate; and certificates split the way they are shared: each block's header, commit and
 * leaves once, and per item its place in the block, from which its Merkle proof is rebuilt when
 * read. An item's id is its ledger entry (entryOf(record, salt)), so the id a client holds is
 * what the validators order and attest to. Storing (data + item + outbox entry, synced before the
 * client hears of it) and certifying (seal + placement in, outbox entry out) are each one atomic
 * batch, so a crash at any point leaves either the old state or the new one; so is failing (the
validators' refusal in, outbox entry out) for an item they refuse for good. The salt lives only
 * here and in the item's certificate: without it nobody can tie an entry to a document. Two
 * indexes, written in the item's own batch, let a client list its items by time and find them by
 * data hash; a store from before they existed is indexed once when opened.
 */
import { randomBytes } from 'node:crypto'
import { Level } from 'level'
import { concat } from 'uint8arrays/concat'
import { z } from 'zod'
import { prefixedKey, uint64BE } from '../lib/bytes.js'
import { certificateOf, type BlockSeal } from '../consensus/certificate.js'
import { decode, encode, equalBytes } from '../consensus/codec.js'
import { entryOf } from '../consensus/entries.js'
import { sha256 } from '../consensus/hash.js'
import { headerHash, idKey } from '../consensus/ids.js'
import { LIMITS } from '../consensus/limits.js'
import { merkleTree } from '../consensus/merkle.js'
import { BoundedMap } from '../lib/bounded-map.js'
import { writeBatch } from '../lib/write-batch.js'
import { BlockHeaderSchema, CommitSchema, LedgerRecordSchema, boundedText, height, salt, uint, type Certificate, type InclusionProof, type LedgerRecord } from '../consensus/types.js'

/** Key prefixes: one byte, then fixed-width parts. */
enum Prefix {
  /** 0x01 entry(32) -> the data bytes exactly as uploaded */
  Data = 0x01,
  /** 0x02 entry(32) -> StoredItem (canonical CBOR) */
  Item = 0x02,
  /** 0x03 createdAt(u64 BE) entry(32) -> empty: items awaiting a certificate, oldest first */
  Outbox = 0x03,
  /** 0x04 height(u64 BE) -> BlockSeal: header and commit, stored once for all the block's items */
  Seal = 0x04,
  /** 0x05 entry(32) -> Placement: where the item's leaf sits; present once certified */
  Placement = 0x05,
  /** 0x06 height(u64 BE) -> the block's leaves (service index u16 BE + entry), 34 bytes each, in block order */
  BlockLeaves = 0x06,
  /** 0x07 client(32) dataHash(32) entry(32) -> empty: a client's items by the hash they anchor */
  ClientHash = 0x07,
  /** 0x08 client(32) createdAt(u64 BE) entry(32) -> empty: a client's items in time order */
  ClientTime = 0x08,
  /** 0x09 name (UTF-8) -> a version byte: which indexes this store holds for every item */
  Meta = 0x09,
  /** 0x0a entry(32) -> ItemFailure: the validators refused the item for good; it never leaves this state */
  Failure = 0x0a
}

const StoredItemSchema = z.strictObject({
  v: z.literal(3),
  client: boundedText(LIMITS.ownerChars),
  record: LedgerRecordSchema,
  salt,
  createdAt: uint,
  /** False for a hash anchored without its data. */
  hasData: z.boolean()
})
type StoredItem = z.infer<typeof StoredItemSchema>
const SealSchema = z.strictObject({ header: BlockHeaderSchema, commit: CommitSchema })
const PlacementSchema = z.strictObject({ height, index: uint })
/** Why the validators refused an item for good: their error code and message, and when (ms). */
const ItemFailureSchema = z.strictObject({ code: boundedText(64), message: boundedText(4096), at: uint })
export type ItemFailure = z.infer<typeof ItemFailureSchema>

export type ItemStatus = 'pending' | 'certified' | 'failed'

export interface Item extends Omit<StoredItem, 'v'> {
  /** The ledger entry: entryOf(record, salt). */
  id: Uint8Array
  status: ItemStatus
  certificate: Certificate | null
  /** Set when status is `failed`. */
  failure: ItemFailure | null
}

export interface NewItem {
  client: string
  record: LedgerRecord
  createdAt: number
}

/** A certificate as the outbox obtained it: the item's leaf in a block whose seal and leaves were checked. */
export interface Certification {
  item: Pick<Item, 'id' | 'createdAt' | 'record' | 'salt'>
  seal: BlockSeal
  proof: InclusionProof
  /** Every leaf of the block, in order: they rebuild the proof when the item is read. */
  leaves: readonly Uint8Array[]
}

const EMPTY = new Uint8Array(0)
const ITEM_MAX_BYTES = 64 * 1024
/** Seals kept decoded: reads of recent items, and whole batches answered at once, share them. */
const CACHED_SEALS = 256
/** Blocks whose proofs are kept built: up to 20,000 proofs each, so few. */
const CACHED_BLOCK_PROOFS = 4
const LEAF_BYTES = 2 + LIMITS.hashBytes
const utf8 = new TextEncoder()
/** Items indexed per batch when a store from before the client indexes is opened. */
const BACKFILL_BATCH = 1000
/** Most items one listing answers. */
export const MAX_LIST_LIMIT = 1000

/** Key of an item's data; exported so tests can tamper with stored bytes the way an intruder would. */
export const dataKey = (id: Uint8Array): Uint8Array => prefixedKey(Prefix.Data, id)
const itemKey = (id: Uint8Array): Uint8Array => prefixedKey(Prefix.Item, id)
const outboxKey = (createdAt: number, id: Uint8Array): Uint8Array => prefixedKey(Prefix.Outbox, uint64BE(createdAt), id)
const sealKey = (h: number): Uint8Array => prefixedKey(Prefix.Seal, uint64BE(h))
const placementKey = (id: Uint8Array): Uint8Array => prefixedKey(Prefix.Placement, id)
const blockLeavesKey = (h: number): Uint8Array => prefixedKey(Prefix.BlockLeaves, uint64BE(h))
const failureKey = (id: Uint8Array): Uint8Array => prefixedKey(Prefix.Failure, id)
/** A client's part of index keys: the hash of its name, so every client's range has the same width and none is a prefix of another. */
const clientPart = (client: string): Uint8Array => sha256(utf8.encode(client))
const clientHashKey = (client: Uint8Array, dataHash: Uint8Array, id: Uint8Array): Uint8Array => prefixedKey(Prefix.ClientHash, client, dataHash, id)
const clientTimeKey = (client: Uint8Array, createdAt: number, id: Uint8Array): Uint8Array => prefixedKey(Prefix.ClientTime, client, uint64BE(createdAt), id)
const INDEX_META_KEY = prefixedKey(Prefix.Meta, utf8.encode('client-indexes'))
const INDEX_VERSION = Uint8Array.of(1)
/** No key tail (time and id, or id) sorts above this: the inclusive end of a client's range. */
const HIGHEST_TAIL = new Uint8Array(8 + 32).fill(0xff)

/** Where a listing stopped: the last item it gave (newest first), so the next page starts just after it. */
export interface ItemCursor { createdAt: number, id: Uint8Array }

/** What a listing shows of an item: no certificate (fetched by id), but where it sits once certified. */
export interface ItemSummary extends Omit<StoredItem, 'v' | 'salt'> {
  id: Uint8Array
  status: ItemStatus
  /** Height and leaf index of the block holding the item's entry; null while pending. */
  placement: { height: number, index: number } | null
  /** Set when status is `failed`. */
  failure: ItemFailure | null
}

export interface ItemPage<C> { items: ItemSummary[], next: C | null }

interface QueuedWrite { entries: ReadonlyArray<{ input: NewItem, data?: Uint8Array }>, resolve: (items: Item[]) => void, reject: (err: unknown) => void }

export class ServiceStore {
  private readonly db: Level<Uint8Array, Uint8Array>
  private readonly seals = new BoundedMap<number, BlockSeal>(CACHED_SEALS)
  /** Proofs of recently read blocks, by height. */
  private readonly blockProofs = new BoundedMap<number, InclusionProof[]>(CACHED_BLOCK_PROOFS)
  private readonly writeQueue: QueuedWrite[] = []
  private writing = false
  private certifying: Promise<unknown> = Promise.resolve()

  constructor (readonly path: string) {
    this.db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
  }

  async open (): Promise<void> {
    await this.db.open()
    await this.indexOldItems()
  }

  /** Index items stored before the client indexes existed, once: the version key is written after them. */
  private async indexOldItems (): Promise<void> {
    if (await this.db.get(INDEX_META_KEY) !== undefined) return
    let ops: BatchOp[] = []
    for await (const [key, value] of this.db.iterator({ gte: Uint8Array.of(Prefix.Item), lt: Uint8Array.of(Prefix.Item + 1) })) {
      const { client, record, createdAt } = decode(StoredItemSchema, value, ITEM_MAX_BYTES)
      ops.push(...indexOps(client, record.dataHash, createdAt, key.subarray(1)))
      if (ops.length >= 2 * BACKFILL_BATCH) {
        await writeOps(this.db, ops, { sync: false })
        ops = []
      }
    }
    ops.push({ type: 'put', key: INDEX_META_KEY, value: INDEX_VERSION })
    await writeOps(this.db, ops, { sync: true })
  }

  async close (): Promise<void> {
    await this.db.close()
  }

  /**
   * Store a new item (and its data, if any) with its outbox entry, under a freshly drawn salt.
   * Storing the same data again makes another item: each anchoring is its own entry, so two
   * clients (or two uploads) of one document cannot be linked on the ledger.
   */
  async putItem (input: NewItem, data?: Uint8Array): Promise<Item> {
    return (await this.putItems([{ input, data }]))[0] as Item
  }

  /**
   * Store many items; each entry as putItem would. Writes are serialised and grouped: whatever
   * arrives while one synced batch is being written goes into the next, so one disk sync serves
   * every request of the moment.
   */
  async putItems (entries: ReadonlyArray<{ input: NewItem, data?: Uint8Array }>): Promise<Item[]> {
    if (entries.length === 0) return []
    return await new Promise((resolve, reject) => {
      this.writeQueue.push({ entries, resolve, reject })
      if (!this.writing) void this.writeQueued()
    })
  }

  private async writeQueued (): Promise<void> {
    this.writing = true
    while (this.writeQueue.length > 0) {
      const group = this.writeQueue.splice(0)
      try {
        const items = await this.write(group.flatMap(g => g.entries))
        let at = 0
        for (const g of group) { g.resolve(items.slice(at, at + g.entries.length)); at += g.entries.length }
      } catch (err) {
        for (const g of group) g.reject(err)
      }
    }
    this.writing = false
  }

  private async write (entries: ReadonlyArray<{ input: NewItem, data?: Uint8Array }>): Promise<Item[]> {
    const ops: BatchOp[] = []
    // One draw for the whole group: 32 bytes per item, cut into views.
    const salts = new Uint8Array(randomBytes(entries.length * LIMITS.saltBytes))
    const items = entries.map(({ input, data }, i): Item => {
      const itemSalt = salts.subarray(i * LIMITS.saltBytes, (i + 1) * LIMITS.saltBytes)
      const id = entryOf(input.record, itemSalt)
      const item: Item = { id, ...input, salt: itemSalt, status: 'pending', certificate: null, failure: null, hasData: data !== undefined }
      if (data !== undefined) ops.push({ type: 'put', key: dataKey(id), value: data })
      ops.push({ type: 'put', key: itemKey(id), value: encodeItem(item) }, { type: 'put', key: outboxKey(item.createdAt, id), value: EMPTY })
      ops.push(...indexOps(input.client, input.record.dataHash, input.createdAt, id))
      return item
    })
    await writeOps(this.db, ops, { sync: true })
    return items
  }

  async getItem (id: Uint8Array): Promise<Item | undefined> {
    const bytes = await this.db.get(itemKey(id))
    return bytes === undefined ? undefined : await this.assemble(id, bytes)
  }

  async getData (id: Uint8Array): Promise<Uint8Array | undefined> {
    return await this.db.get(dataKey(id))
  }

  /** A client's items, newest first (by createdAt, then id descending), `limit` at most, starting after `after`. */
  async listItems (client: string, limit: number, after?: ItemCursor): Promise<ItemPage<ItemCursor>> {
    const c = clientPart(client)
    const lower = prefixedKey(Prefix.ClientTime, c)
    const upper = after === undefined ? { lte: prefixedKey(Prefix.ClientTime, c, HIGHEST_TAIL) } : { lt: clientTimeKey(c, after.createdAt, after.id) }
    const ids: Uint8Array[] = []
    for await (const key of this.db.keys({ gte: lower, ...upper, reverse: true, limit: limit + 1 })) ids.push(key.subarray(1 + 32 + 8))
    const items = await this.summaries(client, ids.slice(0, limit))
    const last = items.at(-1)
    return { items, next: ids.length > limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null }
  }

  /** A client's items anchoring `dataHash`, by id, `limit` at most, starting after the id `after`. */
  async itemsByDataHash (client: string, dataHash: Uint8Array, limit: number, after?: Uint8Array): Promise<ItemPage<Uint8Array>> {
    const c = clientPart(client)
    const range = after === undefined
      ? { gte: prefixedKey(Prefix.ClientHash, c, dataHash) }
      : { gt: clientHashKey(c, dataHash, after) }
    const ids: Uint8Array[] = []
    for await (const key of this.db.keys({ ...range, lte: clientHashKey(c, dataHash, HIGHEST_TAIL.subarray(0, 32)), limit: limit + 1 })) ids.push(key.subarray(1 + 32 + 32))
    const items = await this.summaries(client, ids.slice(0, limit))
    const last = items.at(-1)
    return { items, next: ids.length > limit && last !== undefined ? last.id : null }
  }

  private async summaries (client: string, ids: Uint8Array[]): Promise<ItemSummary[]> {
    if (ids.length === 0) return []
    const [values, placements, failures] = await Promise.all([this.db.getMany(ids.map(itemKey)), this.db.getMany(ids.map(placementKey)), this.db.getMany(ids.map(failureKey))])
    const out: ItemSummary[] = []
    for (const [i, bytes] of values.entries()) {
      // Written in one batch with its index keys, so never missing; and the index is per client, checked anyway.
      if (bytes === undefined) continue
      const { v: _v, salt: _salt, ...stored } = decode(StoredItemSchema, bytes, ITEM_MAX_BYTES)
      if (stored.client !== client) continue
      const placementBytes = placements[i]
      const failureBytes = failures[i]
      const placement = placementBytes === undefined ? null : decode(PlacementSchema, placementBytes)
      const failure = placement !== null || failureBytes === undefined ? null : decode(ItemFailureSchema, failureBytes)
      out.push({ id: ids[i] as Uint8Array, ...stored, status: placement !== null ? 'certified' : failure !== null ? 'failed' : 'pending', placement, failure })
    }
    return out
  }

  /** Up to `limit` items of the outbox, oldest first, leaving out those whose idKey is in `skip`. */
  async pending (limit: number, skip: ReadonlySet<string> = new Set()): Promise<Item[]> {
    const ids: Uint8Array[] = []
    for await (const k of this.db.keys({ gte: Uint8Array.of(Prefix.Outbox), lt: Uint8Array.of(Prefix.Outbox + 1) })) {
      const id = k.subarray(9)
      if (skip.has(idKey(id))) continue
      ids.push(id)
      if (ids.length >= limit) break
    }
    if (ids.length === 0) return []
    const [values, placements] = await Promise.all([this.db.getMany(ids.map(itemKey)), this.db.getMany(ids.map(placementKey))])
    const items: Item[] = []
    for (const [i, bytes] of values.entries()) {
      if (bytes === undefined) continue
      const item = await this.assemble(ids[i] as Uint8Array, bytes, placements[i] ?? null)
      // The key scan reads a snapshot: an item certified or failed since then is no longer pending.
      if (item.status === 'pending') items.push(item)
    }
    return items
  }

  /**
   * Record certificates and take their items out of the outbox, in one atomic batch: each block's
   * seal and leaves once, and per item only where its leaf sits. Items are not read: certifying
   * touches no key that storing an item writes. Not synced: if the machine loses the write, the
   * items are still in the outbox, and the network, where the entries are committed, certifies
   * them again after restart. Returns the seal each item's certificate carries: the one stored
   * first for its block.
   */
  async certifyMany (entries: readonly Certification[]): Promise<BlockSeal[]> {
    if (entries.length === 0) return []
    // One at a time, so two rounds certifying in the same block agree on which seal is first.
    const run = this.certifying.then(async () => await this.certifyNow(entries))
    this.certifying = run.catch(() => undefined)
    return await run
  }

  private async certifyNow (entries: readonly Certification[]): Promise<BlockSeal[]> {
    const ops: BatchOp[] = []
    // The first seal stored for a height stays: certificates already handed out carry its commit
    // and must be served unchanged, even when a later answer brings another quorum's signatures.
    const sealAt = new Map<number, BlockSeal>()
    for (const { seal, leaves } of entries) {
      const h = seal.header.height
      if (sealAt.has(h)) continue
      const kept = await this.storedSeal(h)
      if (kept !== undefined && !equalBytes(headerHash(kept.header), headerHash(seal.header))) {
        throw new Error(`block ${h} was certified with two different headers: the network broke its safety guarantee`)
      }
      if (kept === undefined) {
        ops.push(
          { type: 'put', key: sealKey(h), value: encode({ header: seal.header, commit: seal.commit }) },
          { type: 'put', key: blockLeavesKey(h), value: concat([...leaves], leaves.length * LEAF_BYTES) }
        )
      }
      sealAt.set(h, kept ?? seal)
    }
    for (const { item, seal, proof } of entries) {
      ops.push(
        { type: 'put', key: placementKey(item.id), value: encode({ height: seal.header.height, index: proof.index }) },
        { type: 'del', key: outboxKey(item.createdAt, item.id) }
      )
    }
    await writeOps(this.db, ops, { sync: false })
    for (const seal of sealAt.values()) this.remember(seal)
    return entries.map(e => sealAt.get(e.seal.header.height) as BlockSeal)
  }

  /**
   * Mark items as refused for good by the validators and take them out of the outbox, in one
   * atomic batch. Not synced, as certifying: an item whose failure is lost in a crash is still in
   * the outbox, is submitted again and is refused again.
   */
  async failMany (items: ReadonlyArray<Pick<Item, 'id' | 'createdAt'>>, failure: ItemFailure): Promise<void> {
    if (items.length === 0) return
    const value = encode(ItemFailureSchema.parse(failure))
    const ops: BatchOp[] = []
    for (const item of items) ops.push({ type: 'put', key: failureKey(item.id), value }, { type: 'del', key: outboxKey(item.createdAt, item.id) })
    await writeOps(this.db, ops, { sync: false })
  }

  /** The proof of the leaf at `index` of block `h`, rebuilt from the block's stored leaves and checked against its seal. */
  private async proofAt (seal: BlockSeal, index: number): Promise<InclusionProof> {
    const h = seal.header.height
    let proofs = this.blockProofs.get(h)
    if (proofs === undefined) {
      const bytes = await this.db.get(blockLeavesKey(h))
      if (bytes === undefined) throw new Error(`store is missing the leaves of block ${h}`)
      const leaves = splitLeaves(bytes)
      const tree = merkleTree(leaves)
      if (leaves.length !== seal.header.entryCount || !equalBytes(tree.root, seal.header.entriesRoot)) {
        throw new Error(`store holds leaves for block ${h} that do not build its entries root`)
      }
      proofs = tree.proofs
      this.blockProofs.set(h, proofs)
    }
    const proof = proofs[index]
    if (proof === undefined) throw new Error(`store places an item at ${index} in block ${h}, which holds ${proofs.length} entries`)
    return proof
  }

  /**
   * The item with its status and, once certified, its certificate built from the block's seal.
   * `readPlacement`: its placement bytes if the caller read them already (null: it has none).
   */
  private async assemble (id: Uint8Array, bytes: Uint8Array, readPlacement?: Uint8Array | null): Promise<Item> {
    const { v: _v, ...stored } = decode(StoredItemSchema, bytes, ITEM_MAX_BYTES)
    const placementBytes = readPlacement === undefined ? await this.db.get(placementKey(id)) : readPlacement ?? undefined
    if (placementBytes === undefined) {
      const failureBytes = await this.db.get(failureKey(id))
      if (failureBytes === undefined) return { id, ...stored, status: 'pending', certificate: null, failure: null }
      return { id, ...stored, status: 'failed', certificate: null, failure: decode(ItemFailureSchema, failureBytes) }
    }
    const placement = decode(PlacementSchema, placementBytes)
    const seal = await this.seal(placement.height)
    const proof = await this.proofAt(seal, placement.index)
    return { id, ...stored, status: 'certified', certificate: certificateOf(stored.record, stored.salt, seal, proof), failure: null }
  }

  private async seal (h: number): Promise<BlockSeal> {
    const seal = await this.storedSeal(h)
    // Written no later than the first placement that names it.
    if (seal === undefined) throw new Error(`store is missing the seal of block ${h}`)
    return seal
  }

  private async storedSeal (h: number): Promise<BlockSeal | undefined> {
    const cached = this.seals.get(h)
    if (cached !== undefined) return cached
    const bytes = await this.db.get(sealKey(h))
    return bytes === undefined ? undefined : this.remember(decode(SealSchema, bytes))
  }

  private remember (seal: BlockSeal): BlockSeal {
    const h = seal.header.height
    if (!this.seals.has(h)) this.seals.set(h, seal)
    return this.seals.get(h) as BlockSeal
  }
}

type BatchOp = { type: 'put', key: Uint8Array, value: Uint8Array } | { type: 'del', key: Uint8Array }

/** One atomic write, as db.batch(ops) would do, through a chained batch: the array form costs more per entry. */
async function writeOps (db: Level<Uint8Array, Uint8Array>, ops: readonly BatchOp[], options: { sync: boolean }): Promise<void> {
  await writeBatch(db, batch => {
    for (const op of ops) {
      if (op.type === 'put') batch.put(op.key, op.value)
      else batch.del(op.key)
    }
  }, options)
}

function indexOps (client: string, dataHash: Uint8Array, createdAt: number, id: Uint8Array): BatchOp[] {
  const c = clientPart(client)
  return [{ type: 'put', key: clientHashKey(c, dataHash, id), value: EMPTY }, { type: 'put', key: clientTimeKey(c, createdAt, id), value: EMPTY }]
}

function splitLeaves (bytes: Uint8Array): Uint8Array[] {
  if (bytes.length % LEAF_BYTES !== 0) throw new Error(`stored block leaves are ${bytes.length} bytes, not a multiple of ${LEAF_BYTES}`)
  return Array.from({ length: bytes.length / LEAF_BYTES }, (_, i) => bytes.subarray(i * LEAF_BYTES, (i + 1) * LEAF_BYTES))
}

function encodeItem (item: Item): Uint8Array {
  const stored: StoredItem = { v: 3, client: item.client, record: item.record, salt: item.salt, createdAt: item.createdAt, hasData: item.hasData }
  return encode(stored)
}
