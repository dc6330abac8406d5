/**
 * Signed proposals for machine tests (a fresh block of chosen submissions extending a chosen tip,
 * signed by the round leader of (height, round) of a test network), and one-submission lists.
 */
import { buildBlock, type ChainTip } from '../../consensus/block.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { chainOf, headerHash } from '../../consensus/ids.js'
import { proposalSignBytes } from '../../consensus/sign-bytes.js'
import type { Proposal, Submission } from '../../consensus/types.js'
import { makeEntries, makeSubmission, type TestNetwork } from './fixtures.js'

export function signedProposal (net: TestNetwork, tip: ChainTip, round: number, submissions: Submission[], time: number): Proposal {
  const height = tip.height + 1
  const proposer = net.validators.proposer(height, round)
  const block = buildBlock(chainOf(net.genesis), tip, proposer, time, submissions)
  const signature = defaultEd25519.sign(net.seeds[proposer] as Uint8Array, proposalSignBytes(net.genesis.chainId, height, round, -1, headerHash(block.header)))
  return { height, round, validRound: -1, block, signature }
}

/** One submission by the first service of `net`, of entries first..first+count-1, as the list blocks and submit inputs take. */
export function oneSubmission (net: TestNetwork, count: number, first = 0): Submission[] {
  return [makeSubmission(net, makeEntries(count, first))]
}
