/**
 * The validator's store on a real LevelDB: committed blocks are found again by height, record
 * and data hash (and no other record is, whether the in-memory filter of committed ids is
 * complete yet or not); the log of what the validator signed survives a reopen, and a damaged entry in
 * it is reported, not trusted.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { recordId } from '../../consensus/ids.js'
import { ChainStore } from '../../node/store/chain-store.js'
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
})
