/**
 * The driver around a real machine and a real store, with a fake network: it writes what the
 * validator signs before publishing it, writes commits (and answers those waiting for their
 * records), feeds blocks fetched from peers to the machine, and stops without leaving a timer.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { headerHash, recordId } from '../../consensus/ids.js'
import type { ConsensusMessage, Proposal } from '../../consensus/types.js'
import { makeCommittedBlock, makeNetwork, makeRecords, signVote, tipOf } from '../helpers/fixtures.js'
import { startDriver, type DriverHarness } from '../helpers/driver-harness.js'
import { signedProposal } from '../helpers/proposals.js'

const net = makeNetwork(4)
const NOW = net.genesis.genesisTime + 10_000
const now = (): number => NOW

describe('the consensus driver', () => {
  let h: DriverHarness | undefined
  afterEach(async () => {
    vi.useRealTimers()
    await h?.close()
    h = undefined
  })

  const deliver = async (message: ConsensusMessage): Promise<void> => { await h?.driver.deliver(message) }
  const votesFor = async (proposal: Proposal, type: 'prevote' | 'precommit', from: number[]): Promise<void> => {
    for (const v of from) await deliver({ type: 'vote', vote: signVote(net, v, type, proposal.height, proposal.round, headerHash(proposal.block.header)) })
  }

  it('persists its own votes (and what justifies a lock) before publishing them', async () => {
    h = await startDriver(net, 0, now)
    const proposal = signedProposal(net, h.machine.lastCommitted, 0, makeRecords(3), NOW)
    await deliver({ type: 'proposal', proposal })
    expect(h.calls).toEqual(['persist prevote h1 r0 v0 block', 'publish prevote h1 r0 v0 block'])
    await votesFor(proposal, 'prevote', [1, 2])
    expect(h.calls.slice(2)).toEqual([
      'persist proposal h1 r0',
      'persist prevote h1 r0 v1 block',
      'persist prevote h1 r0 v2 block',
      'persist precommit h1 r0 v0 block',
      'publish precommit h1 r0 v0 block'
    ])
    // And they are on disk.
    expect((await h.store.signed(1)).messages.filter(m => m.type === 'vote' && m.vote.validator === 0)).toHaveLength(2)
  })

  it('writes a commit, answers those waiting for its records, and knows them as committed afterwards', async () => {
    h = await startDriver(net, 0, now)
    const records = makeRecords(3, 100)
    const ids = records.map(recordId)
    expect(await h.driver.submit(records)).toEqual(['pending', 'pending', 'pending'])
    const waiting = h.driver.waitForRecords(ids, 10_000)
    const proposal = signedProposal(net, h.machine.lastCommitted, 0, records, NOW)
    await deliver({ type: 'proposal', proposal })
    await votesFor(proposal, 'prevote', [1, 2])
    await votesFor(proposal, 'precommit', [1, 2])
    expect(await waiting).toBe(true)
    expect((await h.store.block(1))?.block.header).toEqual(proposal.block.header)
    expect((await h.store.tip())?.height).toBe(1)
    expect(h.driver.mempoolSize).toBe(0)
    expect(await h.driver.submit(records)).toEqual(['committed', 'committed', 'committed'])
    // The signed log of the committed height went with the commit.
    expect((await h.store.signed(1)).messages).toEqual([])
  })

  it('fetches blocks when peers are ahead and feeds them to the machine', async () => {
    h = await startDriver(net, 0, now)
    const first = makeCommittedBlock(net, makeRecords(2, 200))
    const second = makeCommittedBlock(net, makeRecords(2, 300), { tip: tipOf(first.block) })
    h.blocks = [first, second]
    // A vote two heights ahead: validator 2 has committed heights 1 and 2.
    await deliver({ type: 'vote', vote: signVote(net, 2, 'precommit', 3, 0, null) })
    await vi.waitFor(async () => { expect((await h?.store.tip())?.height).toBe(2) }, { timeout: 5_000 })
    expect(h.fetches[0]).toEqual({ from: 2, fromHeight: 1 })
    expect(h.machine.height).toBe(3)
    expect(h.store.isCommitted(recordId(second.block.records[1]!))).toBe(true)
  })

  it('stops cleanly: no timer left, waiters answered, later inputs ignored', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    h = await startDriver(net, 0, now)
    const proposal = signedProposal(net, h.machine.lastCommitted, 1, makeRecords(1, 400), NOW)
    await h.driver.submit(makeRecords(1, 400))
    const waiting = h.driver.waitForRecords([recordId(makeRecords(1, 400)[0]!)], 60_000)
    expect(vi.getTimerCount()).toBeGreaterThan(0)
    await h.driver.stop()
    expect(await waiting).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
    const before = h.calls.length
    await deliver({ type: 'proposal', proposal })
    expect(h.calls.length).toBe(before)
  })
})
