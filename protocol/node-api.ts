/**
 * The protocols a service speaks with validator nodes (libp2p request/response), as schemas
 * shared by both sides, plus the signed attestation a node gives when asked to compare an entry
 * with the one anchored at a place. Every request and response is canonical CBOR; only entries
 * (salted commitments) ever reach a node, never a record.
 */
import { z } from 'zod'
import { decode, encode } from '../consensus/codec.js'
import { defaultEd25519, type Ed25519 } from '../consensus/ed25519.js'
import { BlockSchema, CommitSchema, SubmissionSchema, entryList, hash32, height, signature, uint, validatorIndex, type Genesis } from '../consensus/types.js'
import { ValidatorSet } from '../consensus/validator-set.js'
import { LIMITS } from '../consensus/limits.js'

export const PROTOCOL = {
  submit: '/trustnet/submit/2.0.0',
  certificate: '/trustnet/certificate/3.0.0',
  verify: '/trustnet/verify/2.0.0',
  sync: '/trustnet/sync/2.0.0'
} as const

/** Entries per submission and per certificate request. */
export const MAX_BATCH = LIMITS.submissionEntriesCeiling
export const MAX_WAIT_MS = 30_000
export const MAX_SYNC_BLOCKS = 50

/** One signed submission of a registered service. */
export const SubmitRequestSchema = z.strictObject({ submission: SubmissionSchema })
export type SubmitRequest = z.infer<typeof SubmitRequestSchema>
/**
 * Per entry, in submission order: already on chain; waiting in the mempool (in this submission
 * or another); or `resubmit`: the submission was not taken because some of its entries are on
 * chain already, so the service signs the others again in a new submission.
 */
export const SubmitStatusSchema = z.enum(['committed', 'pending', 'resubmit'])
export type SubmitStatus = z.infer<typeof SubmitStatusSchema>
export const SubmitResponseSchema = z.strictObject({ status: z.array(SubmitStatusSchema).max(MAX_BATCH) })
export type SubmitResponse = z.infer<typeof SubmitResponseSchema>

export const CertificateRequestSchema = z.strictObject({
  entries: entryList(MAX_BATCH),
  /** Hold the answer up to this long for entries not yet committed. */
  waitMs: z.number().int().min(0).max(MAX_WAIT_MS)
})
export type CertificateRequest = z.infer<typeof CertificateRequestSchema>

/** A committed block with the commit that seals it: what sync sends, and what certificates are built from. */
export const SealedBlockSchema = z.strictObject({ block: BlockSchema, commit: CommitSchema })
export type SealedBlock = z.infer<typeof SealedBlockSchema>

/**
 * The blocks holding the asked entries (each once, in height order); entries not on the node's
 * chain are in none of them. A block's entries are 32 bytes each: a service checks the commit
 * once and rebuilds the root once for all its entries in the block.
 */
export const CertificateResponseSchema = z.strictObject({ blocks: z.array(SealedBlockSchema).max(MAX_BATCH) })
export type CertificateResponse = z.infer<typeof CertificateResponseSchema>

/** "Is this the entry anchored at this place?": the entry a service rebuilt, and where its certificate puts it. */
export const VerifyRequestSchema = z.strictObject({ entry: hash32, height, index: uint })
export type VerifyRequest = z.infer<typeof VerifyRequestSchema>

export const AttestationOutcomeSchema = z.enum(['match', 'mismatch', 'not-found'])
export type AttestationOutcome = z.infer<typeof AttestationOutcomeSchema>

/** A validator's signed answer to a verify request. */
export const AttestationSchema = z.strictObject({
  chainId: z.string().max(64),
  /** The entry presented. */
  entry: hash32,
  height,
  index: uint,
  /** The entry anchored at (height, index) on this validator's chain; null when there is none. */
  anchored: hash32.nullable(),
  outcome: AttestationOutcomeSchema,
  validator: validatorIndex,
  time: uint,
  signature
})
export type Attestation = z.infer<typeof AttestationSchema>
export const VerifyResponseSchema = z.strictObject({ attestation: AttestationSchema })
export type VerifyResponse = z.infer<typeof VerifyResponseSchema>

export const SyncRequestSchema = z.strictObject({ fromHeight: height, max: z.number().int().min(1).max(MAX_SYNC_BLOCKS) })
export type SyncRequest = z.infer<typeof SyncRequestSchema>
export const SyncResponseSchema = z.strictObject({ blocks: z.array(SealedBlockSchema).max(MAX_SYNC_BLOCKS) })
export type SyncResponse = z.infer<typeof SyncResponseSchema>

/** Any response may instead be a refusal with a stable code. */
export const ErrorResponseSchema = z.strictObject({ error: z.strictObject({ code: z.string().max(64), message: z.string().max(1024) }) })
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>

const ATTESTATION_DOMAIN = 'trustnet/attestation/v2'

export function attestationSignBytes (a: Omit<Attestation, 'signature'>): Uint8Array {
  return encode([ATTESTATION_DOMAIN, a.chainId, a.entry, a.height, a.index, a.anchored, a.outcome, a.validator, a.time])
}

export function signAttestation (a: Omit<Attestation, 'signature'>, seed: Uint8Array, ed: Ed25519 = defaultEd25519): Attestation {
  return { ...a, signature: ed.sign(seed, attestationSignBytes(a)) }
}

// Checking a genesis's keys costs more than a signature: once per genesis object.
const validatorSets = new WeakMap<Genesis, ValidatorSet>()

/** True when the attestation is signed by the validator it names, on this genesis's chain. */
export function verifyAttestation (genesis: Genesis, a: Attestation, ed: Ed25519 = defaultEd25519): boolean {
  if (a.chainId !== genesis.chainId) return false
  let validators = validatorSets.get(genesis)
  if (validators === undefined) {
    validators = new ValidatorSet(genesis)
    validatorSets.set(genesis, validators)
  }
  const key = validators.publicKey(a.validator)
  return key !== undefined && ed.verify(key, attestationSignBytes(a), a.signature)
}

/** A node answered with a refusal; `code` is the node's stable error code. */
export class RemoteRefusalError extends Error {
  override readonly name = 'RemoteRefusalError'
  constructor (readonly code: string, message: string) {
    super(message)
  }
}

/** Decode a node's answer: the expected response, or a refusal thrown as RemoteRefusalError. */
export function decodeResponse<S extends z.ZodType> (schema: S, bytes: Uint8Array, maxBytes?: number): z.infer<S> {
  const value = decode(z.union([schema, ErrorResponseSchema]), bytes, maxBytes)
  const refusal = ErrorResponseSchema.safeParse(value)
  if (refusal.success) throw new RemoteRefusalError(refusal.data.error.code, refusal.data.error.message)
  return value as z.infer<S>
}
