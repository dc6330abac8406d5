/**
 * A digest of a consensus machine's whole state, for tests that check an input changed nothing:
 * equal digests, equal states. Read through Machine.inspect().
 */
import { headerHash, toHex } from '../../consensus/ids.js'
import type { Machine } from '../../consensus/machine.js'

export function machineDigest (machine: Machine): string {
  const { tip, heightState: h, nextHeight, mempool, catchUp, lastOwnPrecommit, decidedAt } = machine.inspect()
  const votes: string[] = []
  for (const r of h.votes.roundsSeen()) {
    for (const type of ['prevote', 'precommit'] as const) {
      for (const v of h.votes.peek(r, type)?.all() ?? []) votes.push(`${r}:${type}:${v.validator}:${toHex(v.signature)}`)
    }
  }
  return JSON.stringify({
    tip: [tip.height, toHex(tip.hash), tip.time],
    round: h.round,
    step: h.step,
    active: h.active,
    locked: [h.lockedRound, h.lockedBlock === null ? null : toHex(headerHash(h.lockedBlock.header))],
    valid: [h.validRound, h.validBlock === null ? null : toHex(headerHash(h.validBlock.header))],
    proposals: [...h.proposals].map(([r, p]) => [r, toHex(p.hash), p.valid]),
    votes: votes.sort(),
    votesAhead: h.votesAhead.held(),
    fired: [...h.fired].sort(),
    nextHeight,
    mempool,
    catchUp,
    lastOwnPrecommit: lastOwnPrecommit === null ? null : toHex(lastOwnPrecommit.signature),
    decidedAt
  })
}
