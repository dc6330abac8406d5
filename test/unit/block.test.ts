import { describe, expect, it } from 'vitest'
import { blockProblem, buildBlock, entriesRoot, totalEntries, type ChainTip } from '../../consensus/block.js'
import { entriesOf, leafBytes, ServiceSet } from '../../consensus/entries.js'
import { chainOf, genesisHash, toHex } from '../../consensus/ids.js'
import { merkleRoot } from '../../consensus/merkle.js'
import type { Block, BlockHeader, Submission } from '../../consensus/types.js'
import { genesisTip, makeEntries, makeEntry, makeNetwork, makeSubmission, tipOf } from '../helpers/fixtures.js'

const net = makeNetwork(4, { services: 2 })
const chain = chainOf(net.genesis)
const { chainId } = chain
const params = net.genesis.params
const tip = genesisTip(net)
const now = tip.time + 10_000
// 6 entries in three submissions, by both services
const submissions = [makeSubmission(net, makeEntries(2, 0)), makeSubmission(net, makeEntries(3, 2), 1), makeSubmission(net, makeEntries(1, 5))]
const entries = submissions.flatMap(entriesOf)
const good = buildBlock(chain, tip, 1, tip.time + 1000, submissions)
const services = new ServiceSet(net.genesis)
const checkSubmission = (s: Submission): void => { services.check(chainId, s) }

const check = (block: Block, t: ChainTip = tip, at = now, validators = 4, p = params) => blockProblem(block, { ...chain, tip: t, params: p, validators, now: at })
const withHeader = (changes: Partial<BlockHeader>, block = good): Block => ({ ...block, header: { ...block.header, ...changes } })

describe('buildBlock', () => {
  it('builds a header that extends the tip and commits to the leaves (service index, entry) of its submissions in order', () => {
    const leaves = [0, 0, 1, 1, 1, 0].map((service, i) => leafBytes(service, makeEntry(i)))
    expect(good.header).toEqual({
      chainId,
      genesisHash: genesisHash(net.genesis),
      height: 1,
      prevHash: genesisHash(net.genesis),
      time: tip.time + 1000,
      proposer: 1,
      entriesRoot: merkleRoot(leaves),
      entryCount: 6
    })
    expect(good.submissions).toBe(submissions)
    expect(totalEntries(submissions)).toBe(6)
    expect(check(good)).toBeUndefined()
    expect(blockProblem(good, { ...chain, tip, params, validators: 4, now, checkSubmission })).toBeUndefined()
  })

  it('binds each entry to its service: the same entries under another service give another root', () => {
    const other = makeSubmission(net, makeEntries(2, 0), 1)
    expect(entriesRoot([other])).not.toEqual(entriesRoot([submissions[0] as Submission]))
  })

  it('never goes back in time: a clock behind the tip gives the tip time', () => {
    const late = buildBlock(chain, { ...tip, time: tip.time + 5000 }, 0, tip.time, submissions)
    expect(late.header.time).toBe(tip.time + 5000)
  })

  it('builds an empty block that is acceptable', () => {
    const empty = buildBlock(chain, tip, 0, tip.time, [])
    expect(empty.header.entryCount).toBe(0)
    expect(empty.header.entriesRoot).toEqual(merkleRoot([]))
    expect(check(empty)).toBeUndefined()
  })

  it('chains: the next block extends the tip this one leaves', () => {
    const next = buildBlock(chain, tipOf(good), 2, good.header.time, [makeSubmission(net, makeEntries(2, 100))])
    expect(next.header.height).toBe(2)
    expect(check(next, tipOf(good))).toBeUndefined()
    expect(check(next)).toBeDefined()
  })
})

describe('blockProblem names each problem', () => {
  const problems: Array<[string, string | undefined]> = []
  const named = (name: string, problem: string | undefined) => { problems.push([name, problem]); return problem }

  it('wrong chain id', () => {
    expect(named('chain', check(withHeader({ chainId: 'other' })))).toMatch(/chain/i)
  })

  it('another genesis: of the same chain id but other validators, or a header naming another genesis', () => {
    const copied = makeNetwork(4, { services: 2, keyLabel: 'copied' })
    expect(copied.genesis.chainId).toBe(chainId)
    const theirs = buildBlock(chainOf(copied.genesis), tip, 1, tip.time + 1000, submissions)
    expect(named('genesis', check(theirs))).toMatch(/genesis/i)
    expect(check(withHeader({ genesisHash: genesisHash(copied.genesis) }))).toMatch(/genesis/i)
  })

  it('wrong previous hash', () => {
    const prevHash = Uint8Array.from(good.header.prevHash)
    prevHash[31] = (prevHash[31] as number) ^ 1
    expect(named('prev', check(withHeader({ prevHash })))).toMatch(/previous|prev/i)
  })

  it('wrong height, below or above the next one', () => {
    expect(named('height', check(withHeader({ height: 2 })))).toMatch(/height/i)
    expect(check(withHeader({ height: 1 }), { ...tip, height: 1 })).toMatch(/height/i)
  })

  it('time going backwards, and accepts a time equal to the tip', () => {
    expect(named('time back', check(withHeader({ time: tip.time - 1 })))).toMatch(/backwards/i)
    expect(check(withHeader({ time: tip.time }))).toBeUndefined()
  })

  it('time too far ahead of the local clock, and accepts exactly the allowed drift', () => {
    expect(check(withHeader({ time: now + params.maxClockDriftMs }))).toBeUndefined()
    expect(named('time ahead', check(withHeader({ time: now + params.maxClockDriftMs + 1 })))).toMatch(/future/i)
  })

  it('time too far behind the local clock for a fresh proposal, and accepts exactly the allowed lag', () => {
    const lag = params.maxBlockTimeLagMs as number
    const late = good.header.time + lag
    expect(check(good, tip, late)).toBeUndefined()
    expect(named('time behind', check(good, tip, late + 1))).toMatch(/past/i)
    // A proposer cannot stamp the tip's time after a long idle spell: an honest one stamps its clock.
    expect(check(buildBlock(chain, tip, 1, tip.time, submissions), tip, tip.time + lag + 1)).toMatch(/past/i)
    expect(check(buildBlock(chain, tip, 1, tip.time + lag + 1, submissions), tip, tip.time + lag + 1)).toBeUndefined()
  })

  it('no lower bound on time for a re-proposed block, a block judged without a clock, or a network without the parameter', () => {
    const late = good.header.time + (params.maxBlockTimeLagMs as number) + 1
    expect(blockProblem(good, { ...chain, tip, params, validators: 4, now: late, reproposed: true })).toBeUndefined()
    expect(blockProblem(good, { ...chain, tip, params, validators: 4, now: Number.POSITIVE_INFINITY })).toBeUndefined()
    expect(check(good, tip, late, 4, { ...params, maxBlockTimeLagMs: undefined })).toBeUndefined()
  })

  it('an entry already on chain, asked of the lookup for each entry', () => {
    const asked: string[] = []
    const onChain = entries[4] as Uint8Array
    const isCommitted = (e: Uint8Array): boolean => { asked.push(toHex(e)); return toHex(e) === toHex(onChain) }
    expect(named('on chain', blockProblem(good, { ...chain, tip, params, validators: 4, now, isCommitted }))).toMatch(/on chain/i)
    expect(asked).toContain(toHex(onChain))
    expect(blockProblem(good, { ...chain, tip, params, validators: 4, now, isCommitted: () => false })).toBeUndefined()
  })

  it('entry count not matching the submissions', () => {
    expect(named('count', check(withHeader({ entryCount: entries.length + 1 })))).toMatch(/count/i)
    expect(check(withHeader({ entryCount: entries.length - 1 }))).toMatch(/count/i)
    expect(check({ ...good, submissions: submissions.slice(1) })).toMatch(/count/i)
  })

  it('entries root not matching the submissions: changed, reordered, swapped or re-attributed', () => {
    const entriesRoot = Uint8Array.from(good.header.entriesRoot)
    entriesRoot[0] = (entriesRoot[0] as number) ^ 1
    expect(named('root', check(withHeader({ entriesRoot })))).toMatch(/root/i)
    expect(check({ ...good, submissions: [...submissions].reverse() })).toMatch(/root/i)
    expect(check({ ...good, submissions: [...submissions.slice(0, -1), makeSubmission(net, [makeEntry(99)])] })).toMatch(/root/i)
    expect(check({ ...good, submissions: [{ ...submissions[0] as Submission, service: 1 }, ...submissions.slice(1)] })).toMatch(/root/i)
  })

  it('a repeated entry, across submissions or within one, even under a root built over the repetition', () => {
    const across = buildBlock(chain, tip, 1, tip.time + 1000, [...submissions, makeSubmission(net, [makeEntry(2)], 1)])
    expect(named('repeat', check(across))).toMatch(/twice/i)
    const within = buildBlock(chain, tip, 1, tip.time + 1000, [makeSubmission(net, [makeEntry(7), makeEntry(8), makeEntry(7)])])
    expect(check(within)).toMatch(/twice/i)
  })

  it('a submission its service did not sign, claimed for another service, or from an unregistered one, when asked to check them', () => {
    const judge = (block: Block) => blockProblem(block, { ...chain, tip, params, validators: 4, now, checkSubmission })
    const signature = Uint8Array.from((submissions[1] as Submission).signature)
    signature[5] = (signature[5] as number) ^ 1
    const badSignature = buildBlock(chain, tip, 1, tip.time + 1000, [submissions[0] as Submission, { ...submissions[1] as Submission, signature }])
    expect(named('signature', judge(badSignature))).toMatch(/refused.*not signed by service 1/i)
    const misattributed = buildBlock(chain, tip, 1, tip.time + 1000, [{ ...submissions[0] as Submission, service: 1 }])
    expect(judge(misattributed)).toMatch(/refused.*not signed by service 1/i)
    const unknown = buildBlock(chain, tip, 1, tip.time + 1000, [{ ...submissions[0] as Submission, service: 2 }])
    expect(judge(unknown)).toMatch(/refused.*not registered/i)
    // A committed block's submissions were checked by its quorum: without checkSubmission they are not looked at.
    expect(check(badSignature)).toBeUndefined()
  })

  it('a proposer that is not a validator', () => {
    expect(named('proposer', check(withHeader({ proposer: 4 })))).toMatch(/proposer/i)
    expect(check(withHeader({ proposer: 3 }))).toBeUndefined()
  })

  it('more entries than the network allows', () => {
    expect(named('too many', check(good, tip, now, 4, { ...params, maxBlockEntries: entries.length - 1 }))).toMatch(/many/i)
    expect(check(good, tip, now, 4, { ...params, maxBlockEntries: entries.length })).toBeUndefined()
  })

  it('with a different reason for each', () => {
    expect(problems.every(([, p]) => typeof p === 'string' && p.length > 0)).toBe(true)
    expect(new Set(problems.map(([, p]) => p)).size).toBe(problems.length)
  })
})
