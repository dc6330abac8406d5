/**
 * The driver around a real machine and a real store, with a fake network: it writes what the
 * validator signs before publishing it, takes a submission whole or not at all (committed /
 * pending / resubmit per entry), writes commits (and answers those waiting for their entries),
 * feeds blocks fetched from peers to the machine, gossips no submission unless asked, and stops
 * without leaving a timer.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { entriesOf } from '../../consensus/entries.js'
import { headerHash } from '../../consensus/ids.js'
import type { ConsensusMessage, Proposal } from '../../consensus/types.js'
import { makeCommittedBlock, makeEntries, makeEntry, makeNetwork, makeSubmission, signVote, tipOf } from '../helpers/fixtures.js'
import { startDriver, type DriverHarness } from '../helpers/driver-harness.js'
import { oneSubmission, signedProposal } from '../helpers/proposals.js'

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
    const proposal = signedProposal(net, h.machine.lastCommitted, 0, oneSubmission(net, 3), NOW)
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

  it('writes a commit, answers those waiting for its entries, and knows them as committed afterwards', async () => {
    h = await startDriver(net, 0, now)
    const entries = makeEntries(3, 100)
    const submission = makeSubmission(net, entries)
    expect(await h.driver.submit(submission)).toEqual(['pending', 'pending', 'pending'])
    expect(h.driver.mempoolSize).toBe(3)
    // Submissions travel to every validator from the service: none is gossiped by default.
    expect(h.calls.filter(c => c.startsWith('publish submissions'))).toEqual([])
    const waiting = h.driver.waitForEntries(entries, 10_000)
    const waitingForOne = h.driver.waitForEntries([entries[1]!], 10_000)
    const proposal = signedProposal(net, h.machine.lastCommitted, 0, [submission], NOW)
    await deliver({ type: 'proposal', proposal })
    await votesFor(proposal, 'prevote', [1, 2])
    await votesFor(proposal, 'precommit', [1, 2])
    expect(await waiting).toBe(true)
    expect(await waitingForOne).toBe(true)
    expect((await h.store.block(1))?.block.header).toEqual(proposal.block.header)
    expect((await h.store.tip())?.height).toBe(1)
    expect(h.driver.mempoolSize).toBe(0)
    expect(await h.driver.submit(submission)).toEqual(['committed', 'committed', 'committed'])
    expect(await h.driver.waitForEntries(entries, 0)).toBe(true)
    // The signed log of the committed height went with the commit.
    expect((await h.store.signed(1)).messages).toEqual([])
  })

  it('answers those waiting for a height once it commits it, and at once for heights it has', async () => {
    h = await startDriver(net, 0, now)
    expect(await h.driver.waitForHeight(0, 0)).toBe(true)
    expect(await h.driver.waitForHeight(1, 0)).toBe(false)
    const waiting = h.driver.waitForHeight(1, 10_000)
    const committed = makeCommittedBlock(net, [makeSubmission(net, makeEntries(1, 900))])
    h.blocks = [committed]
    await deliver({ type: 'committed', block: committed.block, commit: committed.commit })
    expect(await waiting).toBe(true)
    expect(await h.driver.waitForHeight(1, 0)).toBe(true)
  })

  it('gossips the submissions it takes when asked to', async () => {
    h = await startDriver(net, 0, now, undefined, { gossipSubmissions: true })
    expect(await h.driver.submit(makeSubmission(net, makeEntries(2, 800)))).toEqual(['pending', 'pending'])
    expect(h.calls.filter(c => c.startsWith('publish submissions'))).toEqual(['publish submissions 1'])
  })

  it('takes no submission holding an entry already on chain: those are committed, the others to be resubmitted', async () => {
    h = await startDriver(net, 0, now)
    const committed = makeCommittedBlock(net, [makeSubmission(net, makeEntries(2, 700))])
    h.blocks = [committed]
    await deliver({ type: 'committed', block: committed.block, commit: committed.commit })
    expect((await h.store.tip())?.height).toBe(1)
    // Entries 701 (on chain) and 702, 703 (new), signed together.
    const mixed = makeSubmission(net, [makeEntry(702), makeEntry(701), makeEntry(703)])
    expect(await h.driver.submit(mixed)).toEqual(['resubmit', 'committed', 'resubmit'])
    expect(h.driver.mempoolSize).toBe(0)
    // The service signs the others again: taken whole.
    expect(await h.driver.submit(makeSubmission(net, [makeEntry(702), makeEntry(703)]))).toEqual(['pending', 'pending'])
    expect(h.driver.mempoolSize).toBe(2)
    // Not yet committed: a wait of 0 says so at once.
    expect(await h.driver.waitForEntries([makeEntry(702)], 0)).toBe(false)
  })

  it('fetches blocks when peers are ahead and feeds them to the machine', async () => {
    h = await startDriver(net, 0, now)
    const first = makeCommittedBlock(net, oneSubmission(net, 2, 200))
    const second = makeCommittedBlock(net, oneSubmission(net, 2, 300), { tip: tipOf(first.block) })
    h.blocks = [first, second]
    // A vote two heights ahead: validator 2 has committed heights 1 and 2.
    await deliver({ type: 'vote', vote: signVote(net, 2, 'precommit', 3, 0, null) })
    await vi.waitFor(async () => { expect((await h?.store.tip())?.height).toBe(2) }, { timeout: 5_000 })
    expect(h.fetches[0]).toEqual({ from: 2, fromHeight: 1 })
    expect(h.machine.height).toBe(3)
    expect(h.store.isCommitted(entriesOf(second.block.submissions[0]!)[1]!)).toBe(true)
  })

  it('stops cleanly: no timer left, waiters answered, later inputs ignored', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    h = await startDriver(net, 0, now)
    const proposal = signedProposal(net, h.machine.lastCommitted, 1, oneSubmission(net, 1, 400), NOW)
    await h.driver.submit(makeSubmission(net, [makeEntry(400)]))
    const waiting = h.driver.waitForEntries([makeEntry(400)], 60_000)
    const waitingForHeight = h.driver.waitForHeight(5, 60_000)
    expect(vi.getTimerCount()).toBeGreaterThan(0)
    await h.driver.stop()
    expect(await waiting).toBe(false)
    expect(await waitingForHeight).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
    const before = h.calls.length
    await deliver({ type: 'proposal', proposal })
    expect(h.calls.length).toBe(before)
  })
})
