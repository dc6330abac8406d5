/**
 * The data of the ledger and of the agreement protocol, as schemas. Each schema is the single
 * source of a type and of the checks its decoder applies (shape, sizes, ranges), so a value
 * that reaches the core has already passed every stateless check that does not need a key.
 */
import { z } from 'zod'
import { LIMITS } from './limits.js'

const utf8 = new TextEncoder()

export const bytes = (length: number) =>
  z.custom<Uint8Array>(b => b instanceof Uint8Array, { message: 'must be bytes' })
    .refine(b => b.length === length, { message: `must be ${length} bytes` })
export const hash32 = bytes(LIMITS.hashBytes)
export const signature = bytes(LIMITS.signatureBytes)
export const publicKey = bytes(LIMITS.publicKeyBytes)
/** Characters bounded text may not hold: they hide text in UIs and logs. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/
/** A string bounded in UTF-8 bytes, without control characters. */
export const boundedText = (maxBytes: number) =>
  z.string()
    // A UTF-16 unit takes at most 3 UTF-8 bytes: short strings need no encoding to be measured.
    .refine(s => s.length * 3 <= maxBytes || utf8.encode(s).length <= maxBytes, { message: `must be at most ${maxBytes} bytes` })
    .refine(s => !CONTROL_CHARACTERS.test(s), { message: 'must not contain control characters' })
export const uint = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
export const height = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)
export const round = z.number().int().nonnegative().max(LIMITS.roundCeiling)
export const validatorIndex = z.number().int().nonnegative().max(LIMITS.validatorsCeiling - 1)

export const RecordMetadataSchema = z.strictObject({
  name: boundedText(LIMITS.nameChars).optional(),
  size: uint.optional(),
  contentType: boundedText(LIMITS.contentTypeChars).optional(),
  owner: boundedText(LIMITS.ownerChars).optional(),
  clientTime: uint.optional()
})
export type RecordMetadata = z.infer<typeof RecordMetadataSchema>

/** What a service anchors: the SHA-256 of the data plus bounded metadata. Its id is its hash. */
export const LedgerRecordSchema = z.strictObject({
  v: z.literal(1),
  dataHash: hash32,
  meta: RecordMetadataSchema,
  service: boundedText(LIMITS.serviceIdChars).refine(s => s.length > 0, { message: 'must not be empty' })
})
export type LedgerRecord = z.infer<typeof LedgerRecordSchema>

export const BlockHeaderSchema = z.strictObject({
  chainId: boundedText(LIMITS.chainIdChars),
  height,
  /** Hash of the previous header; for height 1, the genesis hash. */
  prevHash: hash32,
  /** Proposer's clock, ms since the epoch; never below the previous block's. */
  time: uint,
  proposer: validatorIndex,
  /** RFC 6962 Merkle root over the record ids, in block order. */
  recordsRoot: hash32,
  recordCount: z.number().int().nonnegative().max(LIMITS.blockRecordsCeiling)
})
export type BlockHeader = z.infer<typeof BlockHeaderSchema>

export const BlockSchema = z.strictObject({
  header: BlockHeaderSchema,
  records: z.array(LedgerRecordSchema).max(LIMITS.blockRecordsCeiling)
})
export type Block = z.infer<typeof BlockSchema>

export const VoteTypeSchema = z.enum(['prevote', 'precommit'])
export type VoteType = z.infer<typeof VoteTypeSchema>

/** A signed vote; `blockHash` null is a vote for no block in this round. */
export const VoteSchema = z.strictObject({
  type: VoteTypeSchema,
  height,
  round,
  blockHash: hash32.nullable(),
  validator: validatorIndex,
  signature
})
export type Vote = z.infer<typeof VoteSchema>

/** The round leader's signed proposal; `validRound` -1 means a fresh block. */
export const ProposalSchema = z.strictObject({
  height,
  round,
  validRound: z.number().int().min(-1).max(LIMITS.roundCeiling),
  block: BlockSchema,
  signature
})
export type Proposal = z.infer<typeof ProposalSchema>

export const CommitSignatureSchema = z.strictObject({
  validator: validatorIndex,
  signature
})
export type CommitSignature = z.infer<typeof CommitSignatureSchema>

/** 2f+1 precommit signatures on one block hash at one (height, round), sorted by validator. */
export const CommitSchema = z.strictObject({
  height,
  round,
  blockHash: hash32,
  signatures: z.array(CommitSignatureSchema).min(1).max(LIMITS.validatorsCeiling)
})
export type Commit = z.infer<typeof CommitSchema>

export const ConsensusMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('proposal'), proposal: ProposalSchema }),
  z.strictObject({ type: z.literal('vote'), vote: VoteSchema }),
  z.strictObject({ type: z.literal('committed'), block: BlockSchema, commit: CommitSchema }),
  z.strictObject({ type: z.literal('records'), records: z.array(LedgerRecordSchema).min(1).max(LIMITS.blockRecordsCeiling) })
])
export type ConsensusMessage = z.infer<typeof ConsensusMessageSchema>

export const ConsensusParamsSchema = z.strictObject({
  maxBlockRecords: z.number().int().min(1).max(LIMITS.blockRecordsCeiling),
  maxMempoolRecords: z.number().int().min(1),
  timeoutProposeMs: z.number().int().min(1),
  timeoutVoteMs: z.number().int().min(1),
  /** Added per round, so rounds that fail give slow links more time (liveness after GST). */
  timeoutDeltaMs: z.number().int().min(0),
  /** Re-send own messages of the current height this often, so drops heal without a reliable transport. */
  rebroadcastMs: z.number().int().min(1),
  /** How far ahead of a validator's clock a proposed block time may be. */
  maxClockDriftMs: z.number().int().min(0),
  /**
   * How far behind a validator's clock a freshly proposed block time may be: a proposer cannot
   * stamp a block with the previous block's time after a long idle spell. Absent: no lower bound
   * (networks created before this parameter keep their rules).
   */
  maxBlockTimeLagMs: z.number().int().min(0).optional(),
  /**
   * A height that only has records waiting starts this long after the last commit at the
   * earliest (at once when a full block is waiting or a peer has moved): under load, blocks of a
   * few records back to back would each cost every validator a block's votes, signatures and
   * synced writes. An idle network still proposes the moment a record arrives. Absent: 0.
   */
  minBlockIntervalMs: z.number().int().min(0).optional()
})
export type ConsensusParams = z.infer<typeof ConsensusParamsSchema>

// Round timeouts as CometBFT's defaults: a leader assembling a block of thousands of records on a
// loaded machine needs more than a second, and a failed round costs far more than waiting.
export const DEFAULT_PARAMS: ConsensusParams = {
  maxBlockRecords: 10_000,
  maxMempoolRecords: 200_000,
  timeoutProposeMs: 3000,
  timeoutVoteMs: 1000,
  timeoutDeltaMs: 500,
  rebroadcastMs: 1000,
  maxClockDriftMs: 5000,
  // Well above a round's timeouts: a proposal judged late in its round is still fresh.
  maxBlockTimeLagMs: 30_000,
  minBlockIntervalMs: 100
}

export const ValidatorSchema = z.strictObject({
  name: boundedText(64),
  publicKey
})
export type Validator = z.infer<typeof ValidatorSchema>

/** What a network is: its id, its validators and its parameters. Anyone holding it can check certificates. */
export const GenesisSchema = z.strictObject({
  chainId: boundedText(LIMITS.chainIdChars).refine(s => s.length > 0, { message: 'must not be empty' }),
  genesisTime: uint,
  validators: z.array(ValidatorSchema).min(1).max(LIMITS.validatorsCeiling),
  params: ConsensusParamsSchema
})
export type Genesis = z.infer<typeof GenesisSchema>

/** Merkle inclusion proof: the leaf's index and the sibling hashes from the leaf up. */
export const InclusionProofSchema = z.strictObject({
  index: uint,
  siblings: z.array(hash32).max(LIMITS.merkleDepthCeiling)
})
export type InclusionProof = z.infer<typeof InclusionProofSchema>

/** Everything needed to check offline that a record is in a block committed by a quorum. */
export const CertificateSchema = z.strictObject({
  v: z.literal(1),
  chainId: boundedText(LIMITS.chainIdChars),
  record: LedgerRecordSchema,
  header: BlockHeaderSchema,
  proof: InclusionProofSchema,
  commit: CommitSchema
})
export type Certificate = z.infer<typeof CertificateSchema>
