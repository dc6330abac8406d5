/**
 * Submissions reaching the machine: made locally (checked by the node or not) or gossiped, each is
 * refused with a typed error unless a registered service signed it, and a refusal changes nothing;
 * a proposal holding one that does not verify gets a nil prevote.
 */
import { describe, expect, it } from 'vitest'
import { defaultEd25519, type Ed25519 } from '../../consensus/ed25519.js'
import { packEntries, signSubmission } from '../../consensus/entries.js'
import { headerHash } from '../../consensus/ids.js'
import { Machine, type Action } from '../../consensus/machine.js'
import type { Submission } from '../../consensus/types.js'
import { machineDigest } from '../helpers/machine-digest.js'
import { genesisTip, makeEntries, makeEntry, makeNetwork, makeSubmission, nothingCommitted, refusal, testSeed } from '../helpers/fixtures.js'
import { signedProposal } from '../helpers/proposals.js'

const net = makeNetwork(4, { services: 2 })
const NOW = net.genesis.genesisTime + 10_000
const observer = (ed?: Ed25519) => new Machine({ genesis: net.genesis, isCommitted: nothingCommitted, tip: genesisTip(net), ...(ed !== undefined ? { ed } : {}) })
const validator = (index: number) => new Machine({ genesis: net.genesis, isCommitted: nothingCommitted, tip: genesisTip(net), self: { index, seed: net.seeds[index] as Uint8Array } })
const gossiped = (actions: Action[]) => actions.flatMap(a => a.type === 'broadcast' && a.message.type === 'submissions' ? [a.message.submissions] : [])
const prevotes = (actions: Action[]) => actions.flatMap(a => a.type === 'broadcast' && a.message.type === 'vote' && a.message.vote.type === 'prevote' ? [a.message.vote.blockHash] : [])

/** Submissions no registered service signed as they stand, each with the code it is refused with. */
function forgeries (): Array<[string, Submission, string]> {
  const good = makeSubmission(net, makeEntries(2, 500))
  const signature = Uint8Array.from(good.signature)
  signature[0] = (signature[0] as number) ^ 1
  return [
    ['a flipped signature bit', { ...good, signature }, 'BAD_SIGNATURE'],
    ['entries changed after signing', { ...good, entries: packEntries(makeEntries(2, 600)) }, 'BAD_SIGNATURE'],
    ['claimed for another registered service', { ...good, service: 1 }, 'BAD_SIGNATURE'],
    ['signed by a key that is not registered', signSubmission(net.genesis.chainId, 0, good.entries, testSeed('stranger')), 'BAD_SIGNATURE'],
    ['signed for another chain', signSubmission('other-chain', 0, good.entries, net.serviceSeeds[0] as Uint8Array), 'BAD_SIGNATURE'],
    ['from a service index the genesis does not register', signSubmission(net.genesis.chainId, 2, good.entries, testSeed('stranger')), 'UNKNOWN_SERVICE']
  ]
}

/** An Ed25519 that counts verifications. */
function counting (): { ed: Ed25519, verified: () => number } {
  let n = 0
  return { ed: { ...defaultEd25519, name: 'counting', verify: (k, m, s) => { n++; return defaultEd25519.verify(k, m, s) } }, verified: () => n }
}

describe('submitting to the machine', () => {
  it('refuses a submission no registered service signed, with a typed code, changing nothing', () => {
    const m = observer()
    m.step({ type: 'submit', submissions: [makeSubmission(net, makeEntries(3))] }, NOW)
    const before = machineDigest(m)
    for (const [why, forged, code] of forgeries()) {
      expect(refusal(() => m.step({ type: 'submit', submissions: [forged] }, NOW)), why).toEqual({ name: 'InvalidInputError', code })
      // one bad submission in a batch refuses the whole batch
      expect(refusal(() => m.step({ type: 'submit', submissions: [makeSubmission(net, makeEntries(1, 900)), forged] }, NOW)), why).toMatchObject({ code })
    }
    expect(machineDigest(m)).toBe(before)
    expect(m.mempoolSize).toBe(3)
  })

  it('refuses gossip holding a submission no registered service signed, changing nothing', () => {
    const m = observer()
    const before = machineDigest(m)
    for (const [why, forged, code] of forgeries()) {
      const message = { type: 'submissions' as const, submissions: [makeSubmission(net, makeEntries(1, 900)), forged] }
      expect(refusal(() => m.step({ type: 'message', message }, NOW)), why).toEqual({ name: 'InvalidInputError', code })
    }
    expect(machineDigest(m)).toBe(before)
    expect(m.mempoolSize).toBe(0)
  })

  it('refuses raw submissions that do not match the schema, changing nothing', () => {
    const m = observer()
    const before = machineDigest(m)
    const good = makeSubmission(net, makeEntries(1))
    const bad = [{ ...good, extra: 1 }, { ...good, entries: new Uint8Array(31) }] as unknown as Submission[]
    for (const b of bad) expect(refusal(() => m.step({ type: 'submit', submissions: [b] }, NOW))).toEqual({ name: 'InvalidInputError', code: 'INVALID_FIELD' })
    expect(refusal(() => m.step({ type: 'submit', submissions: [] }, NOW))).toEqual({ name: 'InvalidInputError', code: 'INVALID_FIELD' })
    expect(machineDigest(m)).toBe(before)
  })

  it('refuses, checked or not, a submission no block could hold: an entry twice, or more entries than a block takes', () => {
    const small = makeNetwork(4, { params: { maxBlockEntries: 3 } })
    const m = new Machine({ genesis: small.genesis, isCommitted: nothingCommitted, tip: genesisTip(small) })
    const before = machineDigest(m)
    const twice = makeSubmission(small, [makeEntry(1), makeEntry(2), makeEntry(1)])
    const big = makeSubmission(small, makeEntries(4))
    for (const checked of [undefined, true] as const) {
      expect(refusal(() => m.step({ type: 'submit', submissions: [twice], ...(checked ? { checked } : {}) }, NOW))).toEqual({ name: 'InvalidInputError', code: 'DUPLICATE' })
      expect(refusal(() => m.step({ type: 'submit', submissions: [big], ...(checked ? { checked } : {}) }, NOW))).toEqual({ name: 'InvalidInputError', code: 'OVERSIZED' })
    }
    expect(refusal(() => m.step({ type: 'message', message: { type: 'submissions', submissions: [twice] } }, NOW))).toMatchObject({ code: 'DUPLICATE' })
    expect(machineDigest(m)).toBe(before)
  })

  it('keeps checked submissions without verifying them again, and gossips the new ones', () => {
    const { ed, verified } = counting()
    const m = observer(ed)
    const submissions = [makeSubmission(net, makeEntries(3)), makeSubmission(net, makeEntries(2, 10), 1)]
    const actions = m.step({ type: 'submit', submissions, checked: true }, NOW)
    expect(verified()).toBe(0)
    expect(m.mempoolSize).toBe(5)
    expect(gossiped(actions)).toEqual([submissions])
    expect(gossiped(m.step({ type: 'submit', submissions, checked: true }, NOW))).toEqual([])
  })

  it('verifies each unchecked submission once and keeps it; gossip of what it holds adds nothing', () => {
    const { ed, verified } = counting()
    const m = observer(ed)
    const s = makeSubmission(net, makeEntries(2))
    m.step({ type: 'submit', submissions: [s] }, NOW)
    expect(verified()).toBe(1)
    expect(m.mempoolSize).toBe(2)
    m.step({ type: 'message', message: { type: 'submissions', submissions: [s, makeSubmission(net, makeEntries(1, 20), 1)] } }, NOW)
    expect(m.mempoolSize).toBe(3)
  })

  it('gossips many new submissions in messages of at most 64', () => {
    const m = observer()
    const submissions = Array.from({ length: 70 }, (_, i) => makeSubmission(net, [makeEntry(1000 + i)]))
    const messages = gossiped(m.step({ type: 'submit', submissions, checked: true }, NOW))
    expect(messages.map(s => s.length)).toEqual([64, 6])
    expect(messages.flat()).toEqual(submissions)
  })
})

describe('submissions inside a proposal', () => {
  it('a proposal holding a submission no registered service signed is refused (a relayer could have altered it); the same block without it is prevoted', () => {
    const honest = makeSubmission(net, makeEntries(2, 700))
    for (const [why, forged, code] of forgeries()) {
      const bad = signedProposal(net, genesisTip(net), 0, [honest, forged], NOW)
      const m = validator(0)
      const before = machineDigest(m)
      expect(refusal(() => m.step({ type: 'message', message: { type: 'proposal', proposal: bad } }, NOW)), why).toEqual({ name: 'InvalidInputError', code })
      expect(machineDigest(m), why).toBe(before)
    }
    const good = signedProposal(net, genesisTip(net), 0, [honest], NOW)
    expect(prevotes(validator(0).step({ type: 'message', message: { type: 'proposal', proposal: good } }, NOW))).toEqual([headerHash(good.block.header)])
  })

  it('a restored proposal holding one is not valid', () => {
    const [, forged] = forgeries()[0] as [string, Submission, string]
    const proposal = signedProposal(net, genesisTip(net), 0, [forged], NOW)
    const m = validator(0)
    m.restore([{ type: 'proposal', proposal }])
    expect(m.inspect().heightState.proposals.get(0)?.valid).toBe(false)
  })

  it('the leader proposes what it holds, whole submissions up to the block bound, none repeating an entry', () => {
    // Validator 1 leads height 1, round 0.
    const leader = validator(1)
    const a = makeSubmission(net, makeEntries(3, 0))
    const b = makeSubmission(net, [makeEntry(2), makeEntry(50)], 1)
    const c = makeSubmission(net, makeEntries(2, 60))
    const actions = leader.step({ type: 'submit', submissions: [a, b, c] }, NOW)
    const proposal = actions.flatMap(x => x.type === 'broadcast' && x.message.type === 'proposal' ? [x.message.proposal] : [])[0]
    expect(proposal?.block.submissions).toEqual([a, c])
    expect(proposal?.block.header.entryCount).toBe(5)
  })
})
