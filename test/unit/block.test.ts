import { describe, expect, it } from 'vitest'
import { blockProblem, buildBlock, type ChainTip } from '../../consensus/block.js'
import { encode } from '../../consensus/codec.js'
import { genesisHash, recordId, toHex } from '../../consensus/ids.js'
import { merkleRoot } from '../../consensus/merkle.js'
import type { Block, BlockHeader } from '../../consensus/types.js'
import { genesisTip, makeNetwork, makeRecord, makeRecords, tipOf } from '../helpers/fixtures.js'

const net = makeNetwork(4)
const chainId = net.genesis.chainId
const params = net.genesis.params
const tip = genesisTip(net)
const now = tip.time + 10_000
const records = makeRecords(6)
const good = buildBlock(chainId, tip, 1, tip.time + 1000, records)

const check = (block: Block, t: ChainTip = tip, at = now, validators = 4, p = params) => blockProblem(block, { chainId, tip: t, params: p, validators, now: at })
const withHeader = (changes: Partial<BlockHeader>, block = good): Block => ({ ...block, header: { ...block.header, ...changes } })

describe('buildBlock', () => {
  it('builds a header that extends the tip and commits to the records', () => {
    expect(good.header).toEqual({
      chainId,
      height: 1,
      prevHash: genesisHash(net.genesis),
      time: tip.time + 1000,
      proposer: 1,
      recordsRoot: merkleRoot(records.map(recordId)),
      recordCount: 6
    })
    expect(good.records).toBe(records)
    expect(check(good)).toBeUndefined()
  })

  it('gives the same block when handed precomputed ids', () => {
    expect(encode(buildBlock(chainId, tip, 1, tip.time + 1000, records, records.map(recordId)))).toEqual(encode(good))
  })

  it('never goes back in time: a clock behind the tip gives the tip time', () => {
    const late = buildBlock(chainId, { ...tip, time: tip.time + 5000 }, 0, tip.time, records)
    expect(late.header.time).toBe(tip.time + 5000)
  })

  it('builds an empty block that is acceptable', () => {
    const empty = buildBlock(chainId, tip, 0, tip.time, [])
    expect(empty.header.recordCount).toBe(0)
    expect(empty.header.recordsRoot).toEqual(merkleRoot([]))
    expect(check(empty)).toBeUndefined()
  })

  it('chains: the next block extends the tip this one leaves', () => {
    const next = buildBlock(chainId, tipOf(good), 2, good.header.time, makeRecords(2, 100))
    expect(next.header.height).toBe(2)
    expect(check(next, tipOf(good))).toBeUndefined()
    expect(check(next)).toBeDefined()
  })
})

describe('blockProblem names each problem', () => {
  const problems: Array<[string, string | undefined]> = []
  const record = (name: string, problem: string | undefined) => { problems.push([name, problem]); return problem }

  it('wrong chain id', () => {
    expect(record('chain', check(withHeader({ chainId: 'other' })))).toMatch(/chain/i)
  })

  it('wrong previous hash', () => {
    const prevHash = Uint8Array.from(good.header.prevHash)
    prevHash[31] = (prevHash[31] as number) ^ 1
    expect(record('prev', check(withHeader({ prevHash })))).toMatch(/previous|prev/i)
  })

  it('wrong height, below or above the next one', () => {
    expect(record('height', check(withHeader({ height: 2 })))).toMatch(/height/i)
    expect(check(withHeader({ height: 1 }), { ...tip, height: 1 })).toMatch(/height/i)
  })

  it('time going backwards, and accepts a time equal to the tip', () => {
    expect(record('time back', check(withHeader({ time: tip.time - 1 })))).toMatch(/backwards/i)
    expect(check(withHeader({ time: tip.time }))).toBeUndefined()
  })

  it('time too far ahead of the local clock, and accepts exactly the allowed drift', () => {
    expect(check(withHeader({ time: now + params.maxClockDriftMs }))).toBeUndefined()
    expect(record('time ahead', check(withHeader({ time: now + params.maxClockDriftMs + 1 })))).toMatch(/future/i)
  })

  it('time too far behind the local clock for a fresh proposal, and accepts exactly the allowed lag', () => {
    const lag = params.maxBlockTimeLagMs as number
    const late = good.header.time + lag
    expect(check(good, tip, late)).toBeUndefined()
    expect(record('time behind', check(good, tip, late + 1))).toMatch(/past/i)
    // A proposer cannot stamp the tip's time after a long idle spell: an honest one stamps its clock.
    expect(check(buildBlock(chainId, tip, 1, tip.time, records), tip, tip.time + lag + 1)).toMatch(/past/i)
    expect(check(buildBlock(chainId, tip, 1, tip.time + lag + 1, records), tip, tip.time + lag + 1)).toBeUndefined()
  })

  it('no lower bound on time for a re-proposed block, a block judged without a clock, or a network without the parameter', () => {
    const late = good.header.time + (params.maxBlockTimeLagMs as number) + 1
    expect(blockProblem(good, { chainId, tip, params, validators: 4, now: late, reproposed: true })).toBeUndefined()
    expect(blockProblem(good, { chainId, tip, params, validators: 4, now: Number.POSITIVE_INFINITY })).toBeUndefined()
    expect(check(good, tip, late, 4, { ...params, maxBlockTimeLagMs: undefined })).toBeUndefined()
  })

  it('a record already on chain, asked of the lookup for each record', () => {
    const asked: string[] = []
    const onChain = recordId(records[4] as typeof records[number])
    const isCommitted = (id: Uint8Array): boolean => { asked.push(toHex(id)); return toHex(id) === toHex(onChain) }
    expect(record('on chain', blockProblem(good, { chainId, tip, params, validators: 4, now, isCommitted }))).toMatch(/on chain/i)
    expect(asked).toContain(toHex(onChain))
    expect(blockProblem(good, { chainId, tip, params, validators: 4, now, isCommitted: () => false })).toBeUndefined()
  })

  it('record count not matching the records', () => {
    expect(record('count', check(withHeader({ recordCount: records.length + 1 })))).toMatch(/count/i)
    expect(check(withHeader({ recordCount: records.length - 1 }))).toMatch(/count/i)
    expect(check({ ...good, records: records.slice(1) })).toMatch(/count/i)
  })

  it('records root not matching the records: changed, reordered or swapped record', () => {
    const recordsRoot = Uint8Array.from(good.header.recordsRoot)
    recordsRoot[0] = (recordsRoot[0] as number) ^ 1
    expect(record('root', check(withHeader({ recordsRoot })))).toMatch(/root/i)
    expect(check({ ...good, records: [...records].reverse() })).toMatch(/root/i)
    expect(check({ ...good, records: [...records.slice(0, -1), makeRecord(99)] })).toMatch(/root/i)
  })

  it('a repeated record, even under a root built over the repetition', () => {
    const twice = [...records, records[2] as typeof records[number]]
    const block = buildBlock(chainId, tip, 1, tip.time + 1000, twice)
    expect(record('repeat', check(block))).toMatch(/twice|repeat|duplicate/i)
  })

  it('a proposer that is not a validator', () => {
    expect(record('proposer', check(withHeader({ proposer: 4 })))).toMatch(/proposer/i)
    expect(check(withHeader({ proposer: 3 }))).toBeUndefined()
  })

  it('more records than the network allows', () => {
    expect(record('too many', check(good, tip, now, 4, { ...params, maxBlockRecords: records.length - 1 }))).toMatch(/many/i)
    expect(check(good, tip, now, 4, { ...params, maxBlockRecords: records.length })).toBeUndefined()
  })

  it('with a different reason for each', () => {
    expect(problems.every(([, p]) => typeof p === 'string' && p.length > 0)).toBe(true)
    expect(new Set(problems.map(([, p]) => p)).size).toBe(problems.length)
  })
})
