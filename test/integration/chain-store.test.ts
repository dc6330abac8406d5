/**
 * The validator's store on a real LevelDB: committed blocks are found again by height, record
 * and data hash (and no other record is, whether the in-memory filter of committed ids is
 * complete yet or not, and synchronously for the consensus machine); a commit and the trim of
 * the signed log below it are one synced write; the log of what the validator signed survives a
 * reopen, and a damaged entry in it is reported, not trusted; evidence is kept once per piece,
 * bounded per slot, across a reopen.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Evidence } from '../../consensus/evidence.js'
import { recordId } from '../../consensus/ids.js'
import { ChainStore, EVIDENCE_PER_SLOT } from '../../node/store/chain-store.js'
import { makeCommittedBlock, makeNetwork, makeRecords, signVote, tipOf } from '../helpers/fixtures.js'

const net = makeNetwork(4)

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

  it('finds a committed block by height, its records by id and by data hash', async () => {
    const records = makeRecords(5)
    const { block, commit, hash } = makeCommittedBlock(net, records)
    await store.commitBlock(block, commit, hash)
    expect(await store.tip()).toEqual({ height: 1, hash, time: block.header.time })
    expect(await store.block(1)).toEqual({ block, commit })
    expect(await store.location(recordId(records[3]!))).toEqual({ height: 1, index: 3 })
    expect(await store.onChain([recordId(records[0]!), new Uint8Array(32)])).toEqual([true, false])
    expect(await store.recordsByDataHash(records[2]!.dataHash)).toEqual([recordId(records[2]!)])
    // A block just committed is handed back as committed (its record ids are known); after a reopen it is decoded from disk.
    expect((await store.block(1))?.block).toBe(block)
    await store.close()
    store = new ChainStore(dir)
    await store.open()
    expect(await store.block(1)).toEqual({ block, commit })
    expect(await store.block(2)).toBeUndefined()
  })

  it('locates the records of every block, recent or not, before and after a reopen, and no others', async () => {
    // More blocks than the store keeps in memory, so that older ones are answered from disk.
    const blocks = []
    let tip
    for (let h = 1; h <= 12; h++) {
      const committed = makeCommittedBlock(net, makeRecords(h, 100 * h), tip === undefined ? {} : { tip })
      await store.commitBlock(committed.block, committed.commit, committed.hash)
      blocks.push(committed.block)
      tip = tipOf(committed.block)
    }
    const ids = blocks.flatMap(b => b.records.map(recordId))
    const expected = blocks.flatMap(b => b.records.map((_, index) => ({ height: b.header.height, index })))
    const unknown = makeRecords(50, 10_000).map(recordId)
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
    const { block, commit, hash } = makeCommittedBlock(net, makeRecords(2))
    await store.commitBlock(block, commit, hash)
    await store.close()
    const raw = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
    const id = recordId(block.records[1]!)
    // [0, 1]: height 0 does not exist; [1, -1], [1]: not a place at all.
    const damaged = [Uint8Array.of(0x82, 0x00, 0x01), Uint8Array.of(0x82, 0x01, 0x20), Uint8Array.of(0x81, 0x01)]
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
    const { block, commit, hash } = makeCommittedBlock(net, makeRecords(3))
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

  it('answers whether a record is on chain synchronously, while the filter fills and once it is complete', async () => {
    const { block, commit, hash } = makeCommittedBlock(net, makeRecords(4, 500))
    const unknown = recordId(makeRecords(1, 9_999)[0]!)
    await store.commitBlock(block, commit, hash)
    expect(block.records.map(r => store.isCommitted(recordId(r)))).toEqual([true, true, true, true])
    expect(store.isCommitted(unknown)).toBe(false)
    await store.close()
    store = new ChainStore(dir)
    await store.open()
    expect([store.isCommitted(recordId(block.records[2]!)), store.isCommitted(unknown)]).toEqual([true, false])
    expect(await store.filterReady()).toBe(true)
    expect([store.isCommitted(recordId(block.records[2]!)), store.isCommitted(unknown)]).toEqual([true, false])
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
    try {
      const { block, commit, hash } = makeCommittedBlock(net, makeRecords(3))
      await store.commitBlock(block, commit, hash)
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
