/**
 * A validator restarted mid-height: restored from its write-ahead log it never signs against what
 * it signed before; when that log could not be read it signs nothing at that height, follows the
 * others to the commit, and votes again from the next height on.
 */
import { describe, expect, it } from 'vitest'
import { buildBlock } from '../../consensus/block.js'
import { chainOf, headerHash } from '../../consensus/ids.js'
import { Machine, type Action } from '../../consensus/machine.js'
import { proposalSignBytes } from '../../consensus/sign-bytes.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import type { Proposal } from '../../consensus/types.js'
import { genesisTip, nothingCommitted, makeNetwork, signVote } from '../helpers/fixtures.js'
import { oneSubmission } from '../helpers/proposals.js'

const net = makeNetwork(4)
const NOW = net.genesis.genesisTime + 10_000
const signed = (actions: Action[]) => actions.filter(a => a.type === 'broadcast' && (a.message.type === 'vote' || a.message.type === 'proposal'))

function proposalBy (proposer: number, height: number, round: number): Proposal {
  const block = buildBlock(chainOf(net.genesis), genesisTip(net), proposer, NOW, oneSubmission(net, 3))
  const signature = defaultEd25519.sign(net.seeds[proposer] as Uint8Array, proposalSignBytes(net.genesis.chainId, height, round, -1, headerHash(block.header)))
  return { height, round, validRound: -1, block, signature }
}

describe('restarting a validator', () => {
  it('with a damaged log it signs nothing at that height, yet commits with the others', () => {
    // Validator 1 leads height 1, round 0; its log was damaged, so it must neither propose nor vote.
    const m = new Machine({ genesis: net.genesis, isCommitted: nothingCommitted, self: { index: 1, seed: net.seeds[1] as Uint8Array }, tip: genesisTip(net), abstainAt: 1 })
    const out: Action[] = []
    out.push(...m.step({ type: 'start' }, NOW))
    out.push(...m.step({ type: 'submit', submissions: oneSubmission(net, 2, 100) }, NOW))
    out.push(...m.step({ type: 'timeout', timeout: { kind: 'propose', height: 1, round: 0 } }, NOW))
    for (const v of [0, 2, 3]) {
      out.push(...m.step({ type: 'message', message: { type: 'vote', vote: signVote(net, v, 'prevote', 1, 0, null) } }, NOW))
      out.push(...m.step({ type: 'message', message: { type: 'vote', vote: signVote(net, v, 'precommit', 1, 0, null) } }, NOW))
    }
    out.push(...m.step({ type: 'timeout', timeout: { kind: 'precommit', height: 1, round: 0 } }, NOW))
    expect(m.currentRound).toBe(1)
    const p = proposalBy(2, 1, 1)
    const hash = headerHash(p.block.header)
    out.push(...m.step({ type: 'message', message: { type: 'proposal', proposal: p } }, NOW))
    for (const v of [0, 2, 3]) {
      out.push(...m.step({ type: 'message', message: { type: 'vote', vote: signVote(net, v, 'prevote', 1, 1, hash) } }, NOW))
      out.push(...m.step({ type: 'message', message: { type: 'vote', vote: signVote(net, v, 'precommit', 1, 1, hash) } }, NOW))
    }
    expect(signed(out)).toEqual([])
    expect(out.some(a => a.type === 'commit')).toBe(true)
    expect(m.height).toBe(2)
    // From the next height on it takes part again: it prevotes the next leader's proposal.
    const good = (() => {
      const block = buildBlock(chainOf(net.genesis), m.lastCommitted, 2, NOW, oneSubmission(net, 1, 200))
      const signature = defaultEd25519.sign(net.seeds[2] as Uint8Array, proposalSignBytes(net.genesis.chainId, 2, 0, -1, headerHash(block.header)))
      return { height: 2, round: 0, validRound: -1, block, signature }
    })()
    const votes = m.step({ type: 'message', message: { type: 'proposal', proposal: good } }, NOW)
    expect(votes.some(a => a.type === 'broadcast' && a.message.type === 'vote' && a.message.vote.type === 'prevote')).toBe(true)
  })

  it('restored from its log it keeps its lock and never signs a different vote in a step it signed', () => {
    const seed = net.seeds[0] as Uint8Array
    const first = new Machine({ genesis: net.genesis, isCommitted: nothingCommitted, self: { index: 0, seed }, tip: genesisTip(net) })
    const persisted: Action[] = []
    const p = proposalBy(1, 1, 0)
    const hash = headerHash(p.block.header)
    persisted.push(...first.step({ type: 'start' }, NOW))
    persisted.push(...first.step({ type: 'message', message: { type: 'proposal', proposal: p } }, NOW))
    for (const v of [1, 2]) persisted.push(...first.step({ type: 'message', message: { type: 'vote', vote: signVote(net, v, 'prevote', 1, 0, hash) } }, NOW))
    // It prevoted and precommitted the block (locked on it in round 0).
    const log = persisted.flatMap(a => a.type === 'persist' ? [a.message] : [])
    expect(log.filter(m => m.type === 'vote' && m.vote.validator === 0).map(m => m.type === 'vote' ? m.vote.type : '')).toEqual(['prevote', 'precommit'])

    const again = new Machine({ genesis: net.genesis, isCommitted: nothingCommitted, self: { index: 0, seed }, tip: genesisTip(net) })
    again.restore(log)
    expect(again.currentRound).toBe(0)
    expect(again.currentStep).toBe('precommit')
    const out = again.step({ type: 'start' }, NOW)
    // Round 1 is led by validator 2 with another block: a locked validator prevotes nil, not that block.
    out.push(...again.step({ type: 'timeout', timeout: { kind: 'precommit', height: 1, round: 0 } }, NOW))
    for (const v of [1, 2, 3]) out.push(...again.step({ type: 'message', message: { type: 'vote', vote: signVote(net, v, 'precommit', 1, 0, null) } }, NOW))
    out.push(...again.step({ type: 'timeout', timeout: { kind: 'precommit', height: 1, round: 0 } }, NOW))
    const other = proposalBy(2, 1, 1)
    expect(headerHash(other.block.header)).not.toEqual(hash)
    out.push(...again.step({ type: 'message', message: { type: 'proposal', proposal: other } }, NOW))
    const votes = out.flatMap(a => a.type === 'broadcast' && a.message.type === 'vote' ? [a.message.vote] : [])
    // Nothing re-signed in round 0, and in round 1 a nil prevote (the lock holds).
    expect(votes.filter(v => v.round === 0)).toEqual([])
    expect(votes.filter(v => v.round === 1 && v.type === 'prevote').map(v => v.blockHash)).toEqual([null])
  })
  it('a leader writes its block once, though it locks on it too, and restored from that log proposes the same block again', () => {
    // Validator 1 leads height 1, round 0: it proposes, prevotes, and on a polka precommits (locks) its own block.
    const seed = net.seeds[1] as Uint8Array
    const leader = new Machine({ genesis: net.genesis, isCommitted: nothingCommitted, self: { index: 1, seed }, tip: genesisTip(net) })
    const out: Action[] = []
    out.push(...leader.step({ type: 'start' }, NOW))
    out.push(...leader.step({ type: 'submit', submissions: oneSubmission(net, 5, 300) }, NOW + (leader.params.minBlockIntervalMs ?? 0)))
    const proposal = out.flatMap(a => a.type === 'broadcast' && a.message.type === 'proposal' ? [a.message.proposal] : [])[0] as Proposal
    expect(proposal).toBeDefined()
    const hash = headerHash(proposal.block.header)
    for (const v of [0, 2]) out.push(...leader.step({ type: 'message', message: { type: 'vote', vote: signVote(net, v, 'prevote', 1, 0, hash) } }, NOW))
    const log = out.flatMap(a => a.type === 'persist' ? [a.message] : [])
    expect(log.filter(m => m.type === 'vote' && m.vote.validator === 1).map(m => m.type === 'vote' ? m.vote.type : '')).toEqual(['prevote', 'precommit'])
    expect(log.filter(m => m.type === 'proposal')).toHaveLength(1)

    // Restarted from that log, it sends the very same proposal again when its round comes back.
    const again = new Machine({ genesis: net.genesis, isCommitted: nothingCommitted, self: { index: 1, seed }, tip: genesisTip(net) })
    again.restore(log)
    expect(again.currentStep).toBe('precommit')
    const resent = again.step({ type: 'start' }, NOW)
    resent.push(...again.step({ type: 'timeout', timeout: { kind: 'tick', height: 1, round: 0 } }, NOW))
    const proposals = resent.flatMap(a => a.type === 'broadcast' && a.message.type === 'proposal' ? [a.message.proposal] : [])
    expect(proposals.length).toBeGreaterThan(0)
    for (const p of proposals) expect(headerHash(p.block.header)).toEqual(hash)
  })
})
