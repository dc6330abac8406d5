/**
 * Evidence that a validator signed two conflicting messages: two votes of one (height, round,
 * type) for different blocks, or two proposals of one (height, round) with different blocks.
 * Each side is kept in a form anyone can check against the genesis keys; a proposal is kept as
 * its signed header only (its signature covers the header hash), so evidence stays small
 * whatever the size of the blocks.
 */
import { z } from 'zod'
import { BlockHeaderSchema, ProposalSchema, VoteSchema, height, round, validatorIndex, type Proposal } from './types.js'

/** A proposal without its submissions: what its proposer signed. */
export const SignedProposalHeaderSchema = ProposalSchema.omit({ block: true }).extend({ header: BlockHeaderSchema })
export type SignedProposalHeader = z.infer<typeof SignedProposalHeaderSchema>

export const EvidenceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('conflicting-votes'), validator: validatorIndex, height, round, first: VoteSchema, second: VoteSchema }),
  z.strictObject({ kind: z.literal('conflicting-proposals'), validator: validatorIndex, height, round, first: SignedProposalHeaderSchema, second: SignedProposalHeaderSchema })
])
export type Evidence = z.infer<typeof EvidenceSchema>
export type EvidenceKind = Evidence['kind']
export const EVIDENCE_KINDS: readonly EvidenceKind[] = ['conflicting-votes', 'conflicting-proposals']

export function signedProposalHeader (p: Proposal): SignedProposalHeader {
  return { height: p.height, round: p.round, validRound: p.validRound, header: p.block.header, signature: p.signature }
}
