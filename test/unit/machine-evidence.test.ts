/**
 * A validator that signs two conflicting messages is reported in an 'evidence' action that
 * names it, the height, the round and the kind, and holds both signed messages in a form anyone
 * can check against the genesis keys.
 */
import { describe, expect, it } from 'vitest'
import { validate } from '../../consensus/codec.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { EvidenceSchema, type Evidence, type SignedProposalHeader } from '../../consensus/evidence.js'
import { headerHash } from '../../consensus/ids.js'
import { Machine, type Action } from '../../consensus/machine.js'
import { checkVote } from '../../consensus/message-checks.js'
import { proposalSignBytes } from '../../consensus/sign-bytes.js'
import { genesisTip, makeNetwork, nothingCommitted, signVote } from '../helpers/fixtures.js'
import { oneSubmission, signedProposal } from '../helpers/proposals.js'

const net = makeNetwork(4)
const NOW = net.genesis.genesisTime + 10_000
const machine = () => new Machine({ genesis: net.genesis, tip: genesisTip(net), self: { index: 0, seed: net.seeds[0] as Uint8Array }, isCommitted: nothingCommitted })
const evidenceOf = (actions: Action[]): Evidence[] => actions.flatMap(a => a.type === 'evidence' ? [a.evidence] : [])

function signedBy (validator: number, p: SignedProposalHeader): boolean {
  const bytes = proposalSignBytes(net.genesis.chainId, p.height, p.round, p.validRound, headerHash(p.header))
  return defaultEd25519.verify(net.validators.publicKey(validator) as Uint8Array, bytes, p.signature)
}

describe('evidence of conflicting messages', () => {
  it('two prevotes of one round for different blocks: both votes, the validator, height, round and kind', () => {
    const m = machine()
    const first = signVote(net, 2, 'prevote', 1, 3, null)
    const second = signVote(net, 2, 'prevote', 1, 3, new Uint8Array(32).fill(9))
    expect(evidenceOf(m.step({ type: 'message', message: { type: 'vote', vote: first } }, NOW))).toEqual([])
    const [evidence, ...more] = evidenceOf(m.step({ type: 'message', message: { type: 'vote', vote: second } }, NOW))
    expect(more).toEqual([])
    expect(evidence).toEqual({ kind: 'conflicting-votes', validator: 2, height: 1, round: 3, first, second })
    expect(validate(EvidenceSchema, evidence)).toEqual(evidence)
    for (const vote of [first, second]) expect(() => checkVote(net.validators, net.genesis.chainId, vote, defaultEd25519)).not.toThrow()
  })

  it('two proposals of one round with different blocks: both signed headers, checkable without the blocks', () => {
    const m = machine()
    const a = signedProposal(net, genesisTip(net), 0, oneSubmission(net, 2), NOW)
    const b = signedProposal(net, genesisTip(net), 0, oneSubmission(net, 2, 50), NOW)
    m.step({ type: 'message', message: { type: 'proposal', proposal: a } }, NOW)
    const [evidence] = evidenceOf(m.step({ type: 'message', message: { type: 'proposal', proposal: b } }, NOW))
    expect(evidence?.kind).toBe('conflicting-proposals')
    if (evidence?.kind !== 'conflicting-proposals') return
    const leader = net.validators.proposer(1, 0)
    expect([evidence.validator, evidence.height, evidence.round]).toEqual([leader, 1, 0])
    expect(evidence.first).toEqual({ height: 1, round: 0, validRound: -1, header: a.block.header, signature: a.signature })
    expect(evidence.second).toEqual({ height: 1, round: 0, validRound: -1, header: b.block.header, signature: b.signature })
    expect(signedBy(leader, evidence.first) && signedBy(leader, evidence.second)).toBe(true)
    expect(validate(EvidenceSchema, evidence)).toEqual(evidence)
  })

  it('a copy of a message is no evidence', () => {
    const m = machine()
    const vote = signVote(net, 3, 'precommit', 1, 0, null)
    m.step({ type: 'message', message: { type: 'vote', vote } }, NOW)
    expect(evidenceOf(m.step({ type: 'message', message: { type: 'vote', vote: { ...vote } } }, NOW))).toEqual([])
  })
})
