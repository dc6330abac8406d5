/**
 * The validator's store on a real LevelDB: committed blocks of submissions are found again by
 * height, and each entry by its place (block height, leaf index), and no other entry is, whether
 * the in-memory filter of committed entries is complete yet or not, and synchronously for the
 * consensus machine; the leaf at a place is read back; a commit and the trim of the signed log
 * below it are one synced write; nothing but entries is stored; the log of what the validator
 * signed survives a reopen, and a damaged entry in it is reported, not trusted; evidence is kept
 * once per piece, bounded per slot, across a reopen.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Evidence } from '../../consensus/evidence.js'
import { entriesOf } from '../../consensus/entries.js'
import type { Block } from '../../consensus/types.js'
import { ChainStore, EVIDENCE_PER_SLOT } from '../../node/store/chain-store.js'
import { makeCommittedBlock, makeEntries, makeEntry, makeNetwork, makeRecord, makeSubmission, signVote, tipOf } from '../helpers/fixtures.js'

const net = makeNetwork(4, { services: 2 })
/** Entries first..first+count-1 in one submission of service 0. */
const submitted = (count: number, first = 0) => [makeSubmission(net, makeEntries(count, first))]
/** Every entry of a block, in leaf order. */
const entriesIn = (block: Block): Uint8Array[] => block.submissions.flatMap(entriesOf)

describe('chain store', () => {
  let dir: string
  let store: ChainStore

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trustnet-store-'))
    store = new ChainStore(dir)
    await store.open()
  })

  afterEach(async () => {
    await store.close().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  })

  it('finds a committed block of submissions by height, and each entry at its leaf position across submissions', async () => {
    // Two services' submissions in one block: leaves 0-2 are service 0's, 3-6 service 1's.
    const first = makeSubmission(net, makeEntries(3))
    const second = makeSubmission(net, makeEntries(4, 10), 1)
    const { block, commit, hash } = makeCommittedBlock(net, [first, second])
    await store.commitBlock(block, commit, hash)
    expect(await store.tip()).toEqual({ height: 1, hash, time: block.header.time })
    expect(await store.block(1)).toEqual({ block, commit })
    expect(await store.location(makeEntry(2))).toEqual({ height: 1, index: 2 })
    expect(await store.location(makeEntry(11))).toEqual({ height: 1, index: 4 })
    expect(await store.onChain([makeEntry(0), new Uint8Array(32), makeEntry(13)])).toEqual([true, false, true])
    // A block just committed is handed back as committed; after a reopen it is decoded from disk.
    expect((await store.block(1))?.block).toBe(block)
    await store.close()
    store = new ChainStore(dir)
    await store.open()
    expect(await store.block(1)).toEqual({ block, commit })
    expect(await store.block(2)).toBeUndefined()
    // The leaf at each place, from disk: its entry and the service that submitted it.
    expect(await store.leaf(1, 0)).toEqual({ entry: makeEntry(0), service: 0 })
    expect(await store.leaf(1, 3)).toEqual({ entry: makeEntry(10), service: 1 })
    expect(await store.leaf(1, 6)).toEqual({ entry: makeEntry(13), service: 1 })
    expect(await store.leaf(1, 7)).toBeUndefined()
    expect(await store.leaf(2, 0)).toBeUndefined()
    expect(await store.location(makeEntry(13))).toEqual({ height: 1, index: 6 })
  })

  it('holds the entries and their places, and no record: the data hashes and names they commit to are nowhere on disk', async () => {
    const { block, commit, hash } = makeCommittedBlock(net, submitted(5))
    await store.commitBlock(block, commit, hash)
    await store.close()
    const raw = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
    await raw.open()
    const bytes: Buffer[] = []
    const prefixes = new Set<number>()
    for await (const [key, value] of raw.iterator()) { bytes.push(Buffer.from(key), Buffer.from(value)); prefixes.add(key[0]!) }
    await raw.close()
    const all = Buffer.concat(bytes)
    // Meta (tip), block, entry index: nothing else.
    expect([...prefixes].sort()).toEqual([0x01, 0x02, 0x03])
    for (const entry of entriesIn(block)) expect(all.includes(Buffer.from(entry))).toBe(true)
    const record = makeRecord(3)
    expect(all.includes(Buffer.from(record.dataHash))).toBe(false)
    expect(all.includes(Buffer.from(record.meta.name!))).toBe(false)
    store = new ChainStore(dir)
    await store.open()
  })

  it('locates the entries of every block, recent or not, before and after a reopen, and no others', async () => {
    // More blocks than the store keeps in memory, so that older ones are answered from disk.
    const blocks = []
    let tip
    for (let h = 1; h <= 12; h++) {
      const committed = makeCommittedBlock(net, submitted(h, 100 * h), tip === undefined ? {} : { tip })
      await store.commitBlock(committed.block, committed.commit, committed.hash)
      blocks.push(committed.block)
      tip = tipOf(committed.block)
    }
    const ids = blocks.flatMap(entriesIn)
    const expected = blocks.flatMap(b => entriesIn(b).map((_, index) => ({ height: b.header.height, index })))
    const unknown = makeEntries(50, 10_000)
    const check = async (): Promise<void> => {
      expect(await store.locations([...ids, ...unknown])).toEqual([...expected, ...unknown.map(() => undefined)])
      expect(await store.onChain([unknown[0]!, ids[0]!, ids[ids.length - 1]!])).toEqual([false, true, true])
      expect(await store.location(ids[5]!)).toEqual(expected[5])
    }
    expect(await store.filterReady()).toBe(true)
    await check()
    await store.close()
    store = new ChainStore(dir)
    await store.open()
    // Right after opening, while the filter is being filled, and once it is complete.
    await check()
    expect(await store.filterReady()).toBe(true)
    await check()
  })

  it('refuses a damaged location entry instead of reading a wrong place from it', async () => {
    const { block, commit, hash } = makeCommittedBlock(net, submitted(2))
    await store.commitBlock(block, commit, hash)
    await store.close()
    const raw = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
    const id = entriesIn(block)[1]!
    // Height 0 does not exist; too short; too long; a height beyond safe integers.
    const place = (high: number, low: number): Uint8Array => Uint8Array.of(...[high, low, 1].flatMap(n => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]))
    const damaged = [place(0, 0), place(0, 1).subarray(0, 11), Uint8Array.of(...place(0, 1), 0), place(0x00200000, 0)]
    for (const value of damaged) {
      await raw.open()
      await raw.put(Uint8Array.of(0x03, ...id), value)
      await raw.close()
      store = new ChainStore(dir)
      await store.open()
      await expect(store.location(id)).rejects.toMatchObject({ code: 'INVALID_FIELD' })
      await store.close()
    }
  })

  it('closes while the filter is still being filled', async () => {
    const { block, commit, hash } = makeCommittedBlock(net, submitted(3))
    await store.commitBlock(block, commit, hash)
    await store.close()
    store = new ChainStore(dir)
    await store.open()
    await store.close()
    expect(await store.filterReady()).toBe(false)
  })

  it('keeps the signed log across a reopen, and reports a damaged entry instead of trusting it', async () => {
    const prevote = signVote(net, 0, 'prevote', 1, 0, null)
    const precommit = signVote(net, 0, 'precommit', 1, 0, null)
    await store.appendSigned([{ type: 'vote', vote: prevote }])
    await store.appendSigned([{ type: 'vote', vote: precommit }])
    await store.close()
    store = new ChainStore(dir)
    await store.open()
    expect(await store.signed(1)).toEqual({ messages: [{ type: 'vote', vote: prevote }, { type: 'vote', vote: precommit }], damaged: false })

    // Damage the last entry, as a bad disk would.
    await store.close()
    const raw = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
    const keys: Uint8Array[] = []
    for await (const key of raw.keys({ gte: Uint8Array.of(0x05), lt: Uint8Array.of(0x06) })) keys.push(key)
    await raw.put(keys[keys.length - 1]!, Uint8Array.of(0xa2, 0x01, 0xff))
    await raw.close()
    store = new ChainStore(dir)
    await store.open()
    expect(await store.signed(1)).toEqual({ messages: [{ type: 'vote', vote: prevote }], damaged: true })
    // New entries go after the old ones, never over them.
    await store.appendSigned([{ type: 'vote', vote: signVote(net, 0, 'prevote', 1, 1, null) }])
    expect((await store.signed(1)).messages).toHaveLength(2)
  })

  it('answers whether an entry is on chain synchronously, while the filter fills and once it is complete', async () => {
    const { block, commit, hash } = makeCommittedBlock(net, submitted(4, 500))
    const unknown = makeEntry(9_999)
    await store.commitBlock(block, commit, hash)
    expect(entriesIn(block).map(e => store.isCommitted(e))).toEqual([true, true, true, true])
    expect(store.isCommitted(unknown)).toBe(false)
    await store.close()
    store = new ChainStore(dir)
    await store.open()
    expect([store.isCommitted(entriesIn(block)[2]!), store.isCommitted(unknown)]).toEqual([true, false])
    expect(await store.filterReady()).toBe(true)
    expect([store.isCommitted(entriesIn(block)[2]!), store.isCommitted(unknown)]).toEqual([true, false])
  })

  it('commits a block and drops the signed log below it in one synced write', async () => {
    const atOne = [{ type: 'vote' as const, vote: signVote(net, 0, 'prevote', 1, 0, null) }, { type: 'vote' as const, vote: signVote(net, 0, 'precommit', 1, 0, null) }]
    const atTwo = [{ type: 'vote' as const, vote: signVote(net, 0, 'prevote', 2, 0, null) }]
    await store.appendSigned(atOne)
    await store.appendSigned(atTwo)
    // Every way a LevelDB can be written to, counted.
    const writes: string[] = []
    type Method = (...args: unknown[]) => unknown
    const spies = (['put', 'del', 'clear', 'batch'] as const).map(method => {
      const original = Level.prototype[method] as Method
      return vi.spyOn(Level.prototype, method).mockImplementation(function (this: unknown, ...args: unknown[]) {
        const result = original.apply(this, args)
        if (method !== 'batch' || args.length > 0) { writes.push(method); return result }
        const chained = result as { write: (options?: { sync?: boolean }) => Promise<void> }
        const write = chained.write.bind(chained)
        chained.write = async options => { writes.push(`chained batch sync=${options?.sync === true}`); await write(options) }
        return chained
      } as never)
    })
    const first = makeCommittedBlock(net, submitted(3))
    try {
      await store.commitBlock(first.block, first.commit, first.hash)
      expect(writes).toEqual(['chained batch sync=true'])
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
    expect(await store.signed(1)).toEqual({ messages: [], damaged: false })
    expect((await store.signed(2)).messages).toEqual(atTwo)
    await store.close()
    store = new ChainStore(dir)
    await store.open()
    expect((await store.block(1))?.block.header.height).toBe(1)
    expect(await store.signed(1)).toEqual({ messages: [], damaged: false })
    // What was signed before the reopen is trimmed by the next commit, and what is signed after it too.
    await store.appendSigned([{ type: 'vote', vote: signVote(net, 0, 'precommit', 2, 0, null) }])
    expect((await store.signed(2)).messages).toHaveLength(2)
    const second = makeCommittedBlock(net, submitted(1, 50), { tip: tipOf(first.block) })
    await store.commitBlock(second.block, second.commit, second.hash)
    expect(await store.signed(2)).toEqual({ messages: [], damaged: false })
  })

  it('keeps each piece of evidence once, at most EVIDENCE_PER_SLOT per validator, height, round and kind, across a reopen', async () => {
    const conflicting = (validator: number, height: number, round: number, k: number): Evidence => {
      const first = signVote(net, validator, 'prevote', height, round, null)
      const second = signVote(net, validator, 'prevote', height, round, new Uint8Array(32).fill(k))
      return { kind: 'conflicting-votes', validator, height, round, first, second }
    }
    expect(await store.putEvidence(conflicting(2, 5, 1, 1))).toBe('stored')
    expect(await store.putEvidence(conflicting(2, 5, 1, 1))).toBe('duplicate')
    for (let k = 2; k <= EVIDENCE_PER_SLOT; k++) expect(await store.putEvidence(conflicting(2, 5, 1, k))).toBe('stored')
    expect(await store.putEvidence(conflicting(2, 5, 1, 99))).toBe('over-bound')
    // Another slot is not affected by a full one.
    expect(await store.putEvidence(conflicting(3, 5, 1, 1))).toBe('stored')
    expect(await store.putEvidence(conflicting(2, 3, 0, 1))).toBe('stored')
    await store.close()
    store = new ChainStore(dir)
    await store.open()
    const all = await store.evidence(0, 100)
    expect(all.map(e => [e.height, e.round, e.validator])).toEqual([[3, 0, 2], ...Array(EVIDENCE_PER_SLOT).fill([5, 1, 2]), [5, 1, 3]])
    expect(all[0]).toEqual(conflicting(2, 3, 0, 1))
    expect((await store.evidence(4, 100)).length).toBe(EVIDENCE_PER_SLOT + 1)
    expect((await store.evidence(0, 2)).length).toBe(2)
    expect(await store.evidence(6, 100)).toEqual([])
  })
})
