/**
 * Checks of a consensus message that need the validator set but no protocol state: the signer
 * is a validator, the signature is theirs, the message is self-consistent (a block's submissions
 * are the ones its signed header counts and roots), a gossiped submission is signed by a
 * registered service. The gossip layer runs them before a message spreads
 * (reject -> the sender is penalised); the machine runs them too.
 */
import { entriesRoot, totalEntries } from './block.js'
import { equalBytes } from './codec.js'
import { verifyCommit } from './commit.js'
import type { Ed25519 } from './ed25519.js'
import type { ServiceSet } from './entries.js'
import { invalid } from './errors.js'
import { headerHash } from './ids.js'
import { proposalSignBytes, voteSignBytes } from './sign-bytes.js'
import type { Block, ConsensusMessage, Proposal, Vote } from './types.js'
import type { ValidatorSet } from './validator-set.js'

export function checkVote (validators: ValidatorSet, chainId: string, vote: Vote, ed: Ed25519): void {
  const key = validators.publicKey(vote.validator)
  if (key === undefined) throw invalid('UNKNOWN_VALIDATOR', `validator ${vote.validator} is not in the validator set`)
  const bytes = voteSignBytes(chainId, vote.type, vote.height, vote.round, vote.blockHash)
  if (!ed.verify(key, bytes, vote.signature)) throw invalid('BAD_SIGNATURE', `${vote.type} signature of validator ${vote.validator} is invalid`)
}

/**
 * Returns the proposed block's hash. With `services`, each submission of the block must be signed
 * by the registered service it names: neither the header nor the proposer's signature covers a
 * submission's signature, so a relayer could otherwise alter one and have the leader's block
 * judged invalid in its place.
 */
export function checkProposal (validators: ValidatorSet, chainId: string, proposal: Proposal, ed: Ed25519, services?: ServiceSet): Uint8Array {
  const { block } = proposal
  if (block.header.height !== proposal.height) throw invalid('INVALID_BLOCK', 'proposal height differs from its block height')
  if (block.header.chainId !== chainId) throw invalid('WRONG_CHAIN', `block is for chain ${block.header.chainId}`)
  if (proposal.validRound >= proposal.round) throw invalid('INVALID_FIELD', 'validRound must be below the round')
  const proposer = validators.proposer(proposal.height, proposal.round)
  // A fresh block names its proposer; a re-proposed one keeps the name of whoever built it.
  if (proposal.validRound === -1 && block.header.proposer !== proposer) throw invalid('WRONG_PROPOSER', `block names proposer ${block.header.proposer}, round leader is ${proposer}`)
  const hash = headerHash(block.header)
  const key = validators.publicKey(proposer) as Uint8Array
  const bytes = proposalSignBytes(chainId, proposal.height, proposal.round, proposal.validRound, hash)
  if (!ed.verify(key, bytes, proposal.signature)) throw invalid('BAD_SIGNATURE', `proposal signature is not the round leader's (validator ${proposer})`)
  checkBody(block)
  for (const s of block.submissions) services?.check(chainId, s, ed)
  return hash
}

/**
 * A signed header with other submissions than the ones it roots is a relayer's forgery, not the
 * signer's block: refused as the message it is, so it can neither take the place of the real one
 * (a proposal is judged once per round) nor spread.
 */
export function checkBody (block: Block): void {
  if (block.header.entryCount !== totalEntries(block.submissions) || !equalBytes(entriesRoot(block.submissions), block.header.entriesRoot)) {
    throw invalid('INVALID_BLOCK', 'the block\'s submissions are not the ones its header roots')
  }
}

/**
 * Every stateless check of a decoded message; throws InvalidInputError. Submissions, gossiped or
 * in a proposal, are checked against `services` when given; a committed block's are not (its
 * quorum checked them, and its header roots the entries they carry).
 */
export function checkMessage (validators: ValidatorSet, chainId: string, message: ConsensusMessage, ed: Ed25519, services?: ServiceSet): void {
  switch (message.type) {
    case 'vote': return checkVote(validators, chainId, message.vote, ed)
    case 'proposal': { checkProposal(validators, chainId, message.proposal, ed, services); return }
    case 'committed':
      if (message.commit.height !== message.block.header.height) throw invalid('INVALID_COMMIT', 'commit height differs from the block height')
      verifyCommit(validators, chainId, message.commit, headerHash(message.block.header), ed)
      return checkBody(message.block)
    case 'submissions':
      for (const s of message.submissions) services?.check(chainId, s, ed)
  }
}
