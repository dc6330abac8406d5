/**
 * The node's LevelDB: committed blocks (of submissions) by height, where each entry sits (its
 * block and its leaf's position there), the chain tip, the node's own signed consensus messages
 * (written before they are sent, so a restarted node never signs against itself), and evidence
 * of validators that signed conflicting messages. Each committed block is written in one atomic,
 * synced batch. Whether an entry is on chain is asked of every entry a service submits; an
 * in-memory filter of the committed entries answers most of those questions (the new entries)
 * without a read.
 */
import { Level } from 'level'
import { prefixedKey, uint64BE } from '../../lib/bytes.js'
import { decode, encode, equalBytes } from '../../consensus/codec.js'
import { invalid, TrustnetError } from '../../consensus/errors.js'
import type { ChainTip } from '../../consensus/block.js'
import { EVIDENCE_KINDS, EvidenceSchema, type Evidence } from '../../consensus/evidence.js'
import { entryAt, entryCount } from '../../consensus/entries.js'
import { BlockSchema, CommitSchema, ConsensusMessageSchema, hash32, uint, type Block, type Commit, type ConsensusMessage } from '../../consensus/types.js'
import { z } from 'zod'
import { StoredIdFilter } from '../../lib/stored-id-filter.js'
import { BoundedMap } from '../../lib/bounded-map.js'
import { writeBatch } from '../../lib/write-batch.js'
import { makePrivateDir } from '../../lib/private-files.js'

/** Key prefixes: one byte, then the fixed-width parts. */
enum Prefix {
  /** 0x01 'tip' -> { height, hash, time } */
  Meta = 0x01,
  /** 0x02 height(u64 BE) -> { block, commit } */
  Block = 0x02,
  /** 0x03 entry(32) -> height(u64 BE) index(u32 BE): the block and the position of the entry's leaf in it */
  Entry = 0x03,
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
const LOCATION_BYTES = 12

/** An entry's place as its index value: fixed width, written for every entry of every block. */
function encodeLocation (height: number, index: number): Uint8Array {
  const bytes = new Uint8Array(LOCATION_BYTES)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, Math.floor(height / 2 ** 32))
  view.setUint32(4, height >>> 0)
  view.setUint32(8, index)
  return bytes
}

function decodeLocation (bytes: Uint8Array): EntryLocation {
  if (bytes.length !== LOCATION_BYTES) throw invalid('INVALID_FIELD', `an entry location is ${LOCATION_BYTES} bytes, not ${bytes.length}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const height = view.getUint32(0) * 2 ** 32 + view.getUint32(4)
  if (height < 1 || !Number.isSafeInteger(height)) throw invalid('INVALID_FIELD', `an entry location names height ${height}`)
  return { height, index: view.getUint32(8) }
}

/**
 * Committed blocks kept as written: certificates for a block are asked for right after it
 * commits. A block of 20,000 entries takes about 650 KB of heap.
 */
const RECENT_BLOCKS = 4

export interface StoredBlock { block: Block, commit: Commit }
/** Where an entry sits: its block's height and its leaf's index among the block's leaves. */
export interface EntryLocation { height: number, index: number }
/** A block's leaf: the entry and the index of the service that submitted it. */
export interface BlockLeaf { entry: Uint8Array, service: number }

/** The leaf at `index` of a block (a view of its entry, no copy), or undefined past its last leaf. */
export function leafAt (block: Pick<Block, 'submissions'>, index: number): BlockLeaf | undefined {
  if (!Number.isSafeInteger(index) || index < 0) return undefined
  let rest = index
  for (const s of block.submissions) {
    const n = entryCount(s)
    if (rest < n) return { entry: entryAt(s, rest), service: s.service }
    rest -= n
  }
  return undefined
}

const heightKey = (prefix: Prefix, height: number): Uint8Array => prefixedKey(prefix, uint64BE(height))

export class ChainStore {
  private readonly db: Level<Uint8Array, Uint8Array>
  /** Next key suffix of the signed log; continues past whatever a previous run wrote, so nothing is overwritten. */
  private signedSeq = 0
  /** Keys of the signed log (a few per height): a commit trims those at or below its height without reading the store. */
  private signedKeys: Uint8Array[] = []
  /** The last blocks committed here, as the objects given: reading one back would decode it. */
  private readonly recent = new BoundedMap<number, StoredBlock>(RECENT_BLOCKS)
  /** Every entry on chain, and a few others: most entries looked up are new, and the filter answers them without a read. */
  private readonly committed: StoredIdFilter

  constructor (readonly path: string) {
    this.db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
    this.committed = new StoredIdFilter(this.db, Prefix.Entry)
  }

  async open (): Promise<void> {
    // The chain is public, but what this validator signed and when is the operator's alone.
    await makePrivateDir(this.path)
    await this.db.open()
    this.signedKeys = []
    for await (const key of this.db.keys({ gte: Uint8Array.of(Prefix.Signed), lt: Uint8Array.of(Prefix.Signed + 1) })) {
      this.signedKeys.push(key)
      this.signedSeq = Math.max(this.signedSeq, new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(9) + 1)
    }
    this.committed.start()
  }

  async close (): Promise<void> {
    await this.committed.stop()
    await this.db.close()
  }

  /** Resolves once lookups of entries not on chain no longer read the store (true), or never will (false). */
  async filterReady (): Promise<boolean> {
    return await this.committed.ready()
  }

  async tip (): Promise<ChainTip | undefined> {
    const bytes = await this.db.get(TIP_KEY)
    return bytes === undefined ? undefined : decode(TipSchema, bytes)
  }

  /**
   * Whether an entry is on chain, answered synchronously (for the consensus machine, which judges
   * every block with it): the filter rules out almost every new entry; the rest are read from disk.
   */
  isCommitted (entry: Uint8Array): boolean {
    return this.committed.hasSync(entry)
  }

  /**
   * Writes the block, its entry index and the new tip, and drops what this node signed below the
   * new tip (it can never be signed again), in one atomic batch, synced: a commit is one write.
   */
  async commitBlock (block: Block, commit: Commit, hash: Uint8Array): Promise<void> {
    const h = block.header.height
    // A few keys per height at most: the log is trimmed at every commit.
    const signedBelow = this.signedKeys.filter(key => signedHeight(key) <= h)
    await writeBatch(this.db, batch => {
      for (const key of signedBelow) batch.del(key)
      batch.put(heightKey(Prefix.Block, h), encode({ block, commit }))
      batch.put(TIP_KEY, encode({ height: h, hash, time: block.header.time }))
      let index = 0
      for (const s of block.submissions) {
        for (let i = 0; i < entryCount(s); i++) batch.put(prefixedKey(Prefix.Entry, entryAt(s, i)), encodeLocation(h, index++))
      }
    }, { sync: true })
    this.signedKeys = this.signedKeys.filter(key => signedHeight(key) > h)
    for (const s of block.submissions) for (let i = 0; i < entryCount(s); i++) this.committed.add(entryAt(s, i))
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

  /** The leaf at (height, index) of the chain, or undefined when there is no such place. */
  async leaf (height: number, index: number): Promise<BlockLeaf | undefined> {
    const stored = await this.block(height)
    return stored === undefined ? undefined : leafAt(stored.block, index)
  }

  async location (entry: Uint8Array): Promise<EntryLocation | undefined> {
    return (await this.locations([entry]))[0]
  }

  /** location() for many entries. */
  async locations (entries: readonly Uint8Array[]): Promise<Array<EntryLocation | undefined>> {
    return (await this.committed.values(entries)).map(bytes => bytes === undefined ? undefined : decodeLocation(bytes))
  }

  /** For each entry, whether it is on chain. */
  async onChain (entries: readonly Uint8Array[]): Promise<boolean[]> {
    return (await this.committed.values(entries)).map(bytes => bytes !== undefined)
  }

  /** Persist an own signed message before it leaves the node; synced, since a lost vote could be signed twice. */
  async appendSigned (messages: readonly ConsensusMessage[]): Promise<void> {
    const puts = messages.map(message => {
      const key = new Uint8Array(13)
      key.set(heightKey(Prefix.Signed, messageHeight(message)))
      new DataView(key.buffer).setUint32(9, this.signedSeq++)
      return { type: 'put' as const, key, value: encode(message) }
    })
    await this.db.batch(puts, { sync: true })
    for (const { key } of puts) this.signedKeys.push(key)
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

/** The height a key of the signed log is filed under (bytes 1-8, big-endian). */
function signedHeight (key: Uint8Array): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength)
  return view.getUint32(1) * 2 ** 32 + view.getUint32(5)
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
    // Never persisted: a node signs no submission.
    case 'submissions': return 0
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
