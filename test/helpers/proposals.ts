/**
 * Signed proposals for machine tests: a fresh block of chosen records extending a chosen tip,
 * signed by the round leader of (height, round) of a test network.
 */
import { buildBlock, type ChainTip } from '../../consensus/block.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { headerHash } from '../../consensus/ids.js'
import { proposalSignBytes } from '../../consensus/sign-bytes.js'
import type { LedgerRecord, Proposal } from '../../consensus/types.js'
import type { TestNetwork } from './fixtures.js'

export function signedProposal (net: TestNetwork, tip: ChainTip, round: number, records: LedgerRecord[], time: number): Proposal {
  const height = tip.height + 1
  const proposer = net.validators.proposer(height, round)
  const block = buildBlock(net.genesis.chainId, tip, proposer, time, records)
  const signature = defaultEd25519.sign(net.seeds[proposer] as Uint8Array, proposalSignBytes(net.genesis.chainId, height, round, -1, headerHash(block.header)))
  return { height, round, validRound: -1, block, signature }
}
