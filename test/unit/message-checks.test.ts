/**
 * The gossip layer's stateless checks of a submissions message: with the genesis's services, a
 * submission no registered service signed is refused with its code, so the sender is penalised.
 */
import { describe, expect, it } from 'vitest'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { ServiceSet, signSubmission } from '../../consensus/entries.js'
import { checkMessage } from '../../consensus/message-checks.js'
import { makeEntries, makeNetwork, makeSubmission, refusal, testSeed } from '../helpers/fixtures.js'

const net = makeNetwork(4, { services: 2 })
const services = new ServiceSet(net.genesis)
const check = (submissions: ReturnType<typeof makeSubmission>[]) => { checkMessage(net.validators, net.genesis.chainId, { type: 'submissions', submissions }, defaultEd25519, services) }

describe('checkMessage of gossiped submissions', () => {
  it('accepts submissions each signed by the registered service it names', () => {
    expect(() => { check([makeSubmission(net, makeEntries(2)), makeSubmission(net, makeEntries(1, 5), 1)]) }).not.toThrow()
  })

  it('refuses one claimed for another service, signed by a stranger, or from an unregistered index', () => {
    const good = makeSubmission(net, makeEntries(2))
    expect(refusal(() => { check([good, { ...good, service: 1 }]) })).toEqual({ name: 'InvalidInputError', code: 'BAD_SIGNATURE' })
    expect(refusal(() => { check([signSubmission(net.genesis.chainId, 0, good.entries, testSeed('stranger'))]) })).toEqual({ name: 'InvalidInputError', code: 'BAD_SIGNATURE' })
    expect(refusal(() => { check([{ ...good, service: 2 }]) })).toEqual({ name: 'InvalidInputError', code: 'UNKNOWN_SERVICE' })
  })
})
