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
/**
 * A UTF-16 surrogate without its pair: no UTF-8 form exists, so encoders substitute U+FFFD and one
 * record would have several readings (with the `u` flag, a well-formed pair is one code point).
 */
export const LONE_SURROGATE = /\p{Cs}/u
/**
 * Characters a name may not hold: invisible format characters (\p{Cf}: zero-width characters,
 * U+FEFF, soft hyphen...) and with them every bidirectional control (U+061C, U+200E-200F,
 * U+202A-202E, U+2066-2069), which make a name display as another.
 */
export const FORMAT_CHARACTERS = /\p{Cf}/u
/** A string bounded in UTF-8 bytes, without control characters or lone surrogates. */
export const boundedText = (maxBytes: number) =>
  z.string()
    // A UTF-16 unit takes at most 3 UTF-8 bytes: short strings need no encoding to be measured.
    .refine(s => s.length * 3 <= maxBytes || utf8.encode(s).length <= maxBytes, { message: `must be at most ${maxBytes} bytes` })
    .refine(s => !CONTROL_CHARACTERS.test(s), { message: 'must not contain control characters' })
    .refine(s => !LONE_SURROGATE.test(s), { message: 'must not contain lone surrogates' })
/** Bounded text shown to people as a name: also without bidirectional controls or invisible format characters. */
export const displayText = (maxBytes: number) =>
  boundedText(maxBytes).refine(s => !FORMAT_CHARACTERS.test(s), { message: 'must not contain bidirectional controls or invisible format characters' })
export const uint = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
export const height = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)
export const round = z.number().int().nonnegative().max(LIMITS.roundCeiling)
export const validatorIndex = z.number().int().nonnegative().max(LIMITS.validatorsCeiling - 1)

export const RecordMetadataSchema = z.strictObject({
  name: displayText(LIMITS.nameChars).optional(),
  size: uint.optional(),
  contentType: displayText(LIMITS.contentTypeChars).optional(),
  owner: displayText(LIMITS.ownerChars).optional(),
  clientTime: uint.optional()
})
export type RecordMetadata = z.infer<typeof RecordMetadataSchema>

/** A registered service's name: what a record names, and what the genesis binds to one key. */
export const serviceName = displayText(LIMITS.serviceIdChars).refine(s => s.length > 0, { message: 'must not be empty' })

/**
 * What a service certifies about one piece of data: its SHA-256 plus bounded metadata, under the
 * service's registered name. It never reaches a validator: the ledger holds only its salted
 * entry (entries.ts), and the certificate carries it with its salt.
 */
export const LedgerRecordSchema = z.strictObject({
  v: z.literal(2),
  dataHash: hash32,
  meta: RecordMetadataSchema,
  service: serviceName
})
export type LedgerRecord = z.infer<typeof LedgerRecordSchema>

/** The random salt a service draws for each record and keeps beside its data. */
export const salt = bytes(LIMITS.saltBytes)

/** A service's place in the genesis's `services` list; what a block's leaves bind each entry to. */
export const serviceIndex = z.number().int().nonnegative().max(LIMITS.servicesCeiling - 1)

/** Fixed-size entries side by side: `count` of them take exactly count × 32 bytes. */
export const entryList = (maxEntries: number) =>
  z.custom<Uint8Array>(b => b instanceof Uint8Array, { message: 'must be bytes' })
    .refine(b => b.length > 0 && b.length % LIMITS.hashBytes === 0, { message: `must be a non-empty whole number of ${LIMITS.hashBytes}-byte entries` })
    .refine(b => b.length <= maxEntries * LIMITS.hashBytes, { message: `must hold at most ${maxEntries} entries` })

/**
 * A batch of entries as one registered service signed it (entries.ts: submissionSignBytes). It
 * travels whole from the service to the validators, in gossip and inside blocks, so every
 * validator can check that each entry of a block came from the service its leaf names.
 */
export const SubmissionSchema = z.strictObject({
  service: serviceIndex,
  entries: entryList(LIMITS.submissionEntriesCeiling),
  signature
})
export type Submission = z.infer<typeof SubmissionSchema>

export const BlockHeaderSchema = z.strictObject({
  chainId: boundedText(LIMITS.chainIdChars),
  height,
  /**
   * The hash of the network's genesis (ids.ts genesisHash), the same in every header: a header is
   * of one network, not of any genesis that shares its chain id.
   */
  genesisHash: hash32,
  /** Hash of the previous header; for height 1, the genesis hash. */
  prevHash: hash32,
  /** Proposer's clock, ms since the epoch; never below the previous block's. */
  time: uint,
  proposer: validatorIndex,
  /** RFC 6962 Merkle root over the block's leaves (service index + entry), in block order. */
  entriesRoot: hash32,
  entryCount: z.number().int().nonnegative().max(LIMITS.blockEntriesCeiling)
})
export type BlockHeader = z.infer<typeof BlockHeaderSchema>

export const BlockSchema = z.strictObject({
  header: BlockHeaderSchema,
  /** Their entries, in order, are the block's leaves. */
  submissions: z.array(SubmissionSchema).max(LIMITS.blockEntriesCeiling)
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
  z.strictObject({ type: z.literal('submissions'), submissions: z.array(SubmissionSchema).min(1).max(LIMITS.gossipSubmissionsCeiling) })
])
export type ConsensusMessage = z.infer<typeof ConsensusMessageSchema>

export const ConsensusParamsSchema = z.strictObject({
  maxBlockEntries: z.number().int().min(1).max(LIMITS.blockEntriesCeiling),
  maxMempoolEntries: z.number().int().min(1),
  /**
   * Entries one service may have waiting in a validator's mempool; further submissions of it are
   * refused (SERVICE_QUOTA) until blocks commit. Absent: maxMempoolEntries split evenly between
   * the registered services, at least maxBlockEntries (mempool.ts: serviceShare).
   */
  maxServiceMempoolEntries: z.number().int().min(1).optional(),
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
   * A height that only has entries waiting starts this long after the last commit at the
   * earliest (at once when a full block is waiting or a peer has moved): under load, blocks of a
   * few entries back to back would each cost every validator a block's votes, signatures and
   * synced writes. An idle network still proposes the moment an entry arrives. Absent: 0.
   */
  minBlockIntervalMs: z.number().int().min(0).optional()
})
export type ConsensusParams = z.infer<typeof ConsensusParamsSchema>

// Round timeouts as CometBFT's defaults: a leader assembling a block of thousands of records on a
// loaded machine needs more than a second, and a failed round costs far more than waiting.
export const DEFAULT_PARAMS: ConsensusParams = {
  maxBlockEntries: 20_000,
  maxMempoolEntries: 400_000,
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
  name: displayText(64),
  publicKey
})
export type Validator = z.infer<typeof ValidatorSchema>

/** A service allowed to submit entries: its name (what its records name) and its ed25519 key. */
export const ServiceSchema = z.strictObject({
  name: serviceName,
  publicKey
})
export type Service = z.infer<typeof ServiceSchema>

/**
 * What a network is: its id, its validators, the services allowed to submit and its parameters.
 * Anyone holding it can check certificates.
 */
export const GenesisSchema = z.strictObject({
  chainId: boundedText(LIMITS.chainIdChars).refine(s => s.length > 0, { message: 'must not be empty' }),
  genesisTime: uint,
  validators: z.array(ValidatorSchema).min(1).max(LIMITS.validatorsCeiling),
  services: z.array(ServiceSchema).max(LIMITS.servicesCeiling)
    .refine(list => new Set(list.map(s => s.name)).size === list.length, { message: 'service names must be distinct' }),
  params: ConsensusParamsSchema
})
export type Genesis = z.infer<typeof GenesisSchema>

/** Merkle inclusion proof: the leaf's index and the sibling hashes from the leaf up. */
export const InclusionProofSchema = z.strictObject({
  index: uint,
  siblings: z.array(hash32).max(LIMITS.merkleDepthCeiling)
})
export type InclusionProof = z.infer<typeof InclusionProofSchema>

/**
 * Everything needed to check offline that a record was anchored by its service in a block
 * committed by a quorum: the record and its salt rebuild the entry, the genesis names the
 * service's index, and the leaf (index, entry) is under the header's root.
 */
export const CertificateSchema = z.strictObject({
  v: z.literal(3),
  chainId: boundedText(LIMITS.chainIdChars),
  record: LedgerRecordSchema,
  salt,
  header: BlockHeaderSchema,
  proof: InclusionProofSchema,
  commit: CommitSchema
})
export type Certificate = z.infer<typeof CertificateSchema>
