/**
 * A relayer cannot alter a leader's proposal into one the validators judge invalid: neither the
 * header nor the proposer's signature covers a submission's signature, and a proposal is judged
 * once per round, so an altered copy arriving first used to shadow the real block. Found by
 * test/fuzz/consensus-messages.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { Machine } from '../../consensus/machine.js'
import { checkMessage } from '../../consensus/message-checks.js'
import type { Proposal } from '../../consensus/types.js'
import { genesisTip, makeCommittedBlock, makeEntries, makeNetwork, makeSubmission, nothingCommitted, refusal } from '../helpers/fixtures.js'
import { machineDigest } from '../helpers/machine-digest.js'
import { signedProposal } from '../helpers/proposals.js'

const net = makeNetwork(4)
const tip = genesisTip(net)
const now = tip.time + 1000
const real = signedProposal(net, tip, 0, [makeSubmission(net, makeEntries(3))], now)

function altered (change: (p: Proposal) => Proposal['block']['submissions']): Proposal {
  return { ...real, block: { ...real.block, submissions: change(real) } }
}
const flippedSignature = altered(p => p.block.submissions.map(s => {
  const signature = Uint8Array.from(s.signature)
  signature[5] = (signature[5] as number) ^ 1
  return { ...s, signature }
}))
const otherEntries = altered(() => [makeSubmission(net, makeEntries(3, 100))])

describe('a proposal altered by a relayer', () => {
  it('is refused by the stateless checks: a submission signature changed, or other submissions than the header roots', () => {
    const check = (p: Proposal) => () => { checkMessage(net.validators, net.genesis.chainId, { type: 'proposal', proposal: p }, defaultEd25519, new Machine({ genesis: net.genesis, tip, isCommitted: nothingCommitted }).services) }
    expect(refusal(check(flippedSignature))).toEqual({ name: 'InvalidInputError', code: 'BAD_SIGNATURE' })
    expect(refusal(check(otherEntries))).toEqual({ name: 'InvalidInputError', code: 'INVALID_BLOCK' })
  })

  it('changes nothing in a machine, which then takes the real proposal as valid', () => {
    const machine = new Machine({ genesis: net.genesis, tip, self: { index: 3, seed: net.seeds[3] as Uint8Array }, isCommitted: nothingCommitted })
    machine.step({ type: 'start' }, now)
    const before = machineDigest(machine)
    for (const p of [flippedSignature, otherEntries]) {
      expect(() => machine.step({ type: 'message', message: { type: 'proposal', proposal: p } }, now)).toThrow()
      expect(machineDigest(machine)).toBe(before)
    }
    machine.step({ type: 'message', message: { type: 'proposal', proposal: real } }, now)
    expect(machine.inspect().heightState.proposals.get(0)?.valid).toBe(true)
  })

  it('a committed block whose submissions are not the ones its header roots is refused', () => {
    const { block, commit } = makeCommittedBlock(net, [makeSubmission(net, makeEntries(2))])
    const message = { type: 'committed' as const, block: { ...block, submissions: [makeSubmission(net, makeEntries(2, 50))] }, commit }
    expect(refusal(() => { checkMessage(net.validators, net.genesis.chainId, message, defaultEd25519) })).toEqual({ name: 'InvalidInputError', code: 'INVALID_BLOCK' })
  })
})
