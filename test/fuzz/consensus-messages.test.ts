/**
 * Fuzzing the consensus wire: random and mutated consensus messages and gossip envelopes are
 * refused with InvalidInputError (a decoding code), or decode to a message that re-encodes to the
 * very same bytes; fed to a validator's machine (as gossip is: envelope, stateless checks, step)
 * they are refused with a TrustnetError or ignored, and the machine's state is unchanged, unless
 * the message is one of the authentic ones the mutations started from.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encode } from '../../consensus/codec.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { leavesOf } from '../../consensus/entries.js'
import { InvalidInputError, TrustnetError } from '../../consensus/errors.js'
import { toHex } from '../../consensus/ids.js'
import { Machine } from '../../consensus/machine.js'
import { checkMessage } from '../../consensus/message-checks.js'
import { decodeMessage, encodeMessage } from '../../consensus/messages.js'
import type { ConsensusMessage } from '../../consensus/types.js'
import { decodeEnvelope, encodeEnvelope } from '../../node/gossip-envelope.js'
import { genesisTip, makeCommittedBlock, makeEntries, makeNetwork, makeSubmission, nothingCommitted, signVote, tipOf } from '../helpers/fixtures.js'
import { machineDigest } from '../helpers/machine-digest.js'
import { signedProposal } from '../helpers/proposals.js'
import { fuzzParams, fuzzTimeout, mutatedBytes } from './mutate.js'

const DECODING_CODES = ['MALFORMED', 'NON_CANONICAL', 'OVERSIZED', 'INVALID_FIELD']
const RUNS = 3000

const net = makeNetwork(4, { services: 2 })
const tip = genesisTip(net)
const now = tip.time + 1000
const first = makeCommittedBlock(net, [makeSubmission(net, makeEntries(2))])
const proposal = signedProposal(net, tip, 0, [makeSubmission(net, makeEntries(3, 10))], now)
const authentic: ConsensusMessage[] = [
  { type: 'vote', vote: signVote(net, 1, 'prevote', 1, 0, first.hash) },
  { type: 'vote', vote: signVote(net, 2, 'precommit', 1, 0, null) },
  { type: 'vote', vote: signVote(net, 3, 'prevote', 2, 4, first.hash) },
  { type: 'proposal', proposal },
  { type: 'committed', block: first.block, commit: first.commit },
  { type: 'committed', ...(({ block, commit }) => ({ block, commit }))(makeCommittedBlock(net, [makeSubmission(net, makeEntries(1, 20), 1)], { tip: tipOf(first.block) })) },
  { type: 'submissions', submissions: [makeSubmission(net, makeEntries(2, 30)), makeSubmission(net, makeEntries(1, 40), 1)] }
]
/**
 * What a message's signatures bind. A committed block's submission signatures are not checked
 * again (its quorum checked them; the header roots the entries), so they are left out of its key.
 */
function signedPart (m: ConsensusMessage): string {
  if (m.type !== 'committed') return toHex(encodeMessage(m))
  return toHex(encode({ header: m.block.header, commit: m.commit, leaves: leavesOf(m.block.submissions) }))
}
const authenticHex = new Set(authentic.map(signedPart))
const messageBytes = authentic.map(encodeMessage)
const envelopeBytes = authentic.map((m, i) => encodeEnvelope(m, i))

/** A validator's machine (validator 3) that has started its first height. */
function startedMachine (): Machine {
  const machine = new Machine({ genesis: net.genesis, tip, self: { index: 3, seed: net.seeds[3] as Uint8Array }, isCommitted: nothingCommitted })
  machine.step({ type: 'start' }, now)
  return machine
}

/** Runs `fn`; a throw must be a TrustnetError (else it is rethrown); returns it or undefined. */
function typedRefusal (fn: () => unknown): TrustnetError | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    if (err instanceof TrustnetError) return err
    throw err
  }
}

describe('fuzzing consensus messages', () => {
  it('decodeMessage refuses with a decoding code, or decodes to the very bytes given', () => {
    fc.assert(fc.property(mutatedBytes(messageBytes), bytes => {
      let message: ConsensusMessage
      try {
        message = decodeMessage(bytes)
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidInputError)
        expect(DECODING_CODES).toContain((err as InvalidInputError).code)
        return
      }
      expect(toHex(encodeMessage(message))).toBe(toHex(bytes))
    }), fuzzParams(RUNS))
  }, fuzzTimeout(10_000, RUNS))

  it('gossip envelopes change a machine\'s state only when they carry an authentic message', () => {
    let machine = startedMachine()
    let before = machineDigest(machine)
    let accepted = 0
    fc.assert(fc.property(mutatedBytes(envelopeBytes), bytes => {
      let message: ConsensusMessage
      try {
        message = decodeEnvelope(bytes).message
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidInputError)
        expect(DECODING_CODES).toContain((err as InvalidInputError).code)
        return
      }
      const isAuthentic = authenticHex.has(signedPart(message))
      // What the gossip validator runs: only an authentic message passes (mutations cannot forge).
      const checked = typedRefusal(() => { checkMessage(machine.validators, net.genesis.chainId, message, defaultEd25519, machine.services) })
      expect(checked === undefined ? 'passed' : checked.name).toBe(isAuthentic ? 'passed' : 'InvalidInputError')
      // The machine checks for itself whatever reaches it.
      typedRefusal(() => machine.step({ type: 'message', message }, now))
      if (isAuthentic) {
        accepted++
        machine = startedMachine()
        before = machineDigest(machine)
        return
      }
      expect(machineDigest(machine)).toBe(before)
    }), fuzzParams(RUNS))
    // The mutations reach past decoding: some leave the message intact (the envelope's counter).
    expect(accepted).toBeGreaterThan(0)
  }, fuzzTimeout(15_000, RUNS))

})
