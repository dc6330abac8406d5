/**
 * The exact bytes validators sign, built in one place. Each carries its domain tag and the chain
 * id, so a signature from one network or for one message kind is useless anywhere else.
 */
import { encode } from './codec.js'
import { DOMAIN } from './hash.js'
import type { VoteType } from './types.js'

export function voteSignBytes (chainId: string, type: VoteType, height: number, round: number, blockHash: Uint8Array | null): Uint8Array {
  return encode([DOMAIN.vote, chainId, type, height, round, blockHash])
}

export function proposalSignBytes (chainId: string, height: number, round: number, validRound: number, blockHash: Uint8Array): Uint8Array {
  return encode([DOMAIN.proposal, chainId, height, round, validRound, blockHash])
}
