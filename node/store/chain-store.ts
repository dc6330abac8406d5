/**
 * The node's LevelDB: committed blocks by height, where each record sits, records by data hash,
 * the chain tip, the node's own signed consensus messages (written before they are sent, so a
 * restarted node never signs against itself), and evidence of validators that signed conflicting
 * messages. Each committed block is written in one atomic, synced batch.
 * Whether a record is on chain is asked of every record a service submits; an in-memory filter of
 * the committed ids answers most of those questions (the new records) without a read.
 */
import { Level } from 'level'
import { prefixedKey, uint64BE } from '../../lib/bytes.js'
import { addQuickCheck, decode, encode, equalBytes } from '../../consensus/codec.js'
import { TrustnetError } from '../../consensus/errors.js'
import type { ChainTip } from '../../consensus/block.js'
import { EVIDENCE_KINDS, EvidenceSchema, type Evidence } from '../../consensus/evidence.js'
import { recordId } from '../../consensus/ids.js'
import { BlockSchema, CommitSchema, ConsensusMessageSchema, hash32, uint, type Block, type Commit, type ConsensusMessage } from '../../consensus/types.js'
import { z } from 'zod'
import { StoredIdFilter } from '../../lib/stored-id-filter.js'
import { BoundedMap } from '../../lib/bounded-map.js'
import { writeBatch } from '../../lib/write-batch.js'

/** Key prefixes: one byte, then the fixed-width parts. */
enum Prefix {
  /** 0x01 'tip' -> { height, hash, time } */
  Meta = 0x01,
  /** 0x02 height(u64 BE) -> { block, commit } */
  Block = 0x02,
  /** 0x03 recordId(32) -> [height, index] */
  Record = 0x03,
  /** 0x04 dataHash(32) recordId(32) -> empty */
  DataHash = 0x04,
  /** 0x05 height(u64 BE) seq(u32 BE) -> one message this node signed (or that justifies it), in writing order */
  Signed = 0x05,
  /** 0x06 height(u64 BE) round(u32 BE) validator(u16 BE) kind(u8) slot(u8) -> Evidence; at most EVIDENCE_PER_SLOT slots */
  Evidence = 0x06
}

/**
 * Distinct pieces of evidence kept per (height, round, validator, kind): one proves the fault;
 * a liar signing ever more conflicting messages must not fill the disk.
 */
export const EVIDENCE_PER_SLOT = 4
/** What became of a piece of evidence handed to the store. */
export type EvidenceOutcome = 'stored' | 'duplicate' | 'over-bound'

const TIP_KEY = Uint8Array.of(Prefix.Meta, 0x74)
const StoredBlockSchema = z.strictObject({ block: BlockSchema, commit: CommitSchema })
const TipSchema = z.strictObject({ height: uint, hash: hash32, time: uint })
const LocationSchema = z.tuple([z.number().int().min(1), uint])
// Read for every id of every certificate request.
addQuickCheck(LocationSchema, value => Array.isArray(value) && value.length === 2 &&
  Number.isSafeInteger(value[0]) && (value[0] as number) >= 1 && Number.isSafeInteger(value[1]) && (value[1] as number) >= 0)
const EMPTY = new Uint8Array(0)
/**
 * Committed blocks kept as written: certificates for a block are asked for right after it commits.
 * Few, since every record they hold stays on the heap: under batch load, blocks of thousands of
 * records each made most of a validator's live heap, which every full collection marks.
 */
const RECENT_BLOCKS = 4

export interface StoredBlock { block: Block, commit: Commit }
export interface RecordLocation { height: number, index: number }

const heightKey = (prefix: Prefix, height: number): Uint8Array => prefixedKey(prefix, uint64BE(height))

export class ChainStore {
  private readonly db: Level<Uint8Array, Uint8Array>
  /** Next key suffix of the signed log; continues past whatever a previous run wrote, so nothing is overwritten. */
  private signedSeq = 0
  /** The last blocks committed here, as the objects given: reading one back would decode it and recompute its record ids. */
  private readonly recent = new BoundedMap<number, StoredBlock>(RECENT_BLOCKS)
  /** Every id on chain, and a few others: most ids looked up are new, and the filter answers them without a read. */
  private readonly committed: StoredIdFilter

  constructor (readonly path: string) {
    this.db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
    this.committed = new StoredIdFilter(this.db, Prefix.Record)
  }

  async open (): Promise<void> {
    await this.db.open()
    for await (const key of this.db.keys({ gte: Uint8Array.of(Prefix.Signed), lt: Uint8Array.of(Prefix.Signed + 1), reverse: true, limit: 1 })) {
      this.signedSeq = new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(9) + 1
    }
    this.committed.start()
  }

  async close (): Promise<void> {
    await this.committed.stop()
    await this.db.close()
  }

  /** Resolves once lookups of ids not on chain no longer read the store (true), or never will (false). */
  async filterReady (): Promise<boolean> {
    return await this.committed.ready()
  }

  async tip (): Promise<ChainTip | undefined> {
    const bytes = await this.db.get(TIP_KEY)
    return bytes === undefined ? undefined : decode(TipSchema, bytes)
  }

  /**
   * Whether a record is on chain, answered synchronously (for the consensus machine, which judges
   * every block with it): the filter rules out almost every new id; the rest are read from disk.
   */
  isCommitted (id: Uint8Array): boolean {
    return this.committed.hasSync(id)
  }

  /**
   * Writes the block, its record index and the new tip, and drops what this node signed below the
   * new tip (it can never be signed again), in one atomic batch, synced: a commit is one write.
   */
  async commitBlock (block: Block, commit: Commit, hash: Uint8Array): Promise<void> {
    const h = block.header.height
    const ids = block.records.map(recordId)
    // A few keys per height at most: the log is trimmed at every commit.
    const signedBelow: Uint8Array[] = []
    for await (const key of this.db.keys({ gte: heightKey(Prefix.Signed, 0), lt: heightKey(Prefix.Signed, h + 1) })) signedBelow.push(key)
    await writeBatch(this.db, batch => {
      for (const key of signedBelow) batch.del(key)
      batch.put(heightKey(Prefix.Block, h), encode({ block, commit }))
      batch.put(TIP_KEY, encode({ height: h, hash, time: block.header.time }))
      block.records.forEach((record, index) => {
        const id = ids[index] as Uint8Array
        batch.put(prefixedKey(Prefix.Record, id), encode([h, index]))
        batch.put(prefixedKey(Prefix.DataHash, record.dataHash, id), EMPTY)
      })
    }, { sync: true })
    for (const id of ids) this.committed.add(id)
    this.recent.set(h, { block, commit })
  }

  /**
   * Keeps a piece of evidence unless the very same one is kept already, or EVIDENCE_PER_SLOT
   * others of its (height, round, validator, kind) are: the caller counts and reports those.
   */
  async putEvidence (evidence: Evidence): Promise<EvidenceOutcome> {
    const slotPrefix = evidenceSlotPrefix(evidence)
    const bytes = encode(evidence)
    let slots = 0
    for await (const value of this.db.values({ gte: slotPrefix, lt: upperBound(slotPrefix) })) {
      if (equalBytes(value, bytes)) return 'duplicate'
      slots++
    }
    if (slots >= EVIDENCE_PER_SLOT) return 'over-bound'
    const key = new Uint8Array(slotPrefix.length + 1)
    key.set(slotPrefix)
    key[slotPrefix.length] = slots
    await this.db.put(key, bytes)
    return 'stored'
  }

  /** Evidence from `fromHeight` on, by height, round and validator; at most `limit` pieces. */
  async evidence (fromHeight: number, limit: number): Promise<Evidence[]> {
    const out: Evidence[] = []
    for await (const value of this.db.values({ gte: heightKey(Prefix.Evidence, fromHeight), lt: Uint8Array.of(Prefix.Evidence + 1), limit })) {
      out.push(decode(EvidenceSchema, value))
    }
    return out
  }

  async block (height: number): Promise<StoredBlock | undefined> {
    const recent = this.recent.get(height)
    if (recent !== undefined) return recent
    const bytes = await this.db.get(heightKey(Prefix.Block, height))
    return bytes === undefined ? undefined : decode(StoredBlockSchema, bytes)
  }

  async location (id: Uint8Array): Promise<RecordLocation | undefined> {
    return (await this.locations([id]))[0]
  }

  /** location() for many ids. */
  async locations (ids: readonly Uint8Array[]): Promise<Array<RecordLocation | undefined>> {
    return (await this.committed.values(ids)).map(bytes => {
      if (bytes === undefined) return undefined
      const [height, index] = decode(LocationSchema, bytes)
      return { height, index }
    })
  }

  /** For each id, whether it is on chain. */
  async onChain (ids: readonly Uint8Array[]): Promise<boolean[]> {
    return (await this.committed.values(ids)).map(bytes => bytes !== undefined)
  }

  /** Ids of the records anchoring this data hash, oldest first. */
  async recordsByDataHash (dataHash: Uint8Array, limit = 100): Promise<Uint8Array[]> {
    const prefix = prefixedKey(Prefix.DataHash, dataHash)
    const out: Uint8Array[] = []
    for await (const key of this.db.keys({ gte: prefix, lt: upperBound(prefix), limit })) out.push(Uint8Array.from(key.subarray(prefix.length)))
    return out
  }

  /** Persist an own signed message before it leaves the node; synced, since a lost vote could be signed twice. */
  async appendSigned (messages: readonly ConsensusMessage[]): Promise<void> {
    await this.db.batch(messages.map(message => {
      const key = new Uint8Array(13)
      key.set(heightKey(Prefix.Signed, messageHeight(message)))
      new DataView(key.buffer).setUint32(9, this.signedSeq++)
      return { type: 'put' as const, key, value: encode(message) }
    }), { sync: true })
  }

  /**
   * What this node persisted at `height`, in the order it was written. An entry that does not
   * decode is not trusted: `damaged` tells the caller it cannot know everything it signed.
   */
  async signed (height: number): Promise<{ messages: ConsensusMessage[], damaged: boolean }> {
    const messages: ConsensusMessage[] = []
    let damaged = false
    for await (const value of this.db.values({ gte: heightKey(Prefix.Signed, height), lt: heightKey(Prefix.Signed, height + 1) })) {
      try {
        messages.push(decode(ConsensusMessageSchema, value))
      } catch (err) {
        if (!(err instanceof TrustnetError)) throw err
        damaged = true
      }
    }
    return { messages, damaged }
  }
}

function evidenceSlotPrefix (e: Evidence): Uint8Array {
  const key = new Uint8Array(1 + 8 + 4 + 2 + 1)
  key.set(heightKey(Prefix.Evidence, e.height))
  const view = new DataView(key.buffer)
  view.setUint32(9, e.round)
  view.setUint16(13, e.validator)
  key[15] = EVIDENCE_KINDS.indexOf(e.kind)
  return key
}

function messageHeight (m: ConsensusMessage): number {
  switch (m.type) {
    case 'vote': return m.vote.height
    case 'proposal': return m.proposal.height
    case 'committed': return m.block.header.height
    case 'records': return 0
  }
}

/** The smallest key greater than every key starting with `prefix`. */
function upperBound (prefix: Uint8Array): Uint8Array {
  const out = Uint8Array.from(prefix)
  for (let i = out.length - 1; i >= 0; i--) {
    if ((out[i] as number) < 0xff) { out[i] = (out[i] as number) + 1; return out.slice(0, i + 1) }
  }
  return Uint8Array.of(0xff, 0xff)
}
