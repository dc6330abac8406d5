/**
 * The protocols a service speaks with validator nodes (libp2p request/response), as schemas
 * shared by both sides, plus the signed attestation a node gives when asked to compare a hash
 * with the anchored one. Every request and response is canonical CBOR.
 */
import { z } from 'zod'
import { addQuickCheck, decode, encode } from '../consensus/codec.js'
import { defaultEd25519, type Ed25519 } from '../consensus/ed25519.js'
import { BlockHeaderSchema, BlockSchema, CommitSchema, LedgerRecordSchema, hash32, height, signature, uint, validatorIndex, type Genesis } from '../consensus/types.js'
import { hasExactly, isHashList, isRecordList } from '../consensus/record-check.js'
import { ValidatorSet } from '../consensus/validator-set.js'
import { LIMITS } from '../consensus/limits.js'

export const PROTOCOL = {
  submit: '/trustnet/submit/1.0.0',
  certificate: '/trustnet/certificate/2.0.0',
  verify: '/trustnet/verify/1.0.0',
  sync: '/trustnet/sync/1.0.0',
  records: '/trustnet/records/1.0.0'
} as const

export const MAX_BATCH = 1000
export const MAX_WAIT_MS = 30_000
export const MAX_SYNC_BLOCKS = 50

export const SubmitRequestSchema = z.strictObject({ records: z.array(LedgerRecordSchema).min(1).max(MAX_BATCH) })
// Every submitted record is decoded by every validator: checked without the schema's copy.
addQuickCheck(SubmitRequestSchema, value => isRecordList(value, 1, MAX_BATCH))
export type SubmitRequest = z.infer<typeof SubmitRequestSchema>
export const SubmitResponseSchema = z.strictObject({
  /** Per record, in request order: already on chain, or now pending in the mempool. */
  status: z.array(z.enum(['committed', 'pending']))
})
export type SubmitResponse = z.infer<typeof SubmitResponseSchema>
// A service reads one status per record from every validator it submits to.
addQuickCheck(SubmitResponseSchema, value => hasExactly(value, ['status']) && Array.isArray(value.status) &&
  value.status.every(s => s === 'committed' || s === 'pending'))

export const CertificateRequestSchema = z.strictObject({
  ids: z.array(hash32).min(1).max(MAX_BATCH),
  /** Hold the answer up to this long for records not yet committed. */
  waitMs: z.number().int().min(0).max(MAX_WAIT_MS)
})
export type CertificateRequest = z.infer<typeof CertificateRequestSchema>
/**
 * A committed block as certificates need it: its header, its commit and every record id in block
 * order (the Merkle leaves). From it a service builds the certificate of each of its records in
 * the block, after checking the commit once and rebuilding the root once: a thousand records cost
 * one signature check and 32 bytes each on the wire, not a thousand copies of the commit.
 */
export const BlockProofSchema = z.strictObject({
  header: BlockHeaderSchema,
  commit: CommitSchema,
  recordIds: z.array(hash32).max(LIMITS.blockRecordsCeiling)
})
export type BlockProof = z.infer<typeof BlockProofSchema>

/** The blocks holding the asked ids (each once); ids not on the node's chain are in none of them. */
export const CertificateResponseSchema = z.strictObject({
  blocks: z.array(BlockProofSchema).max(MAX_BATCH)
})
export type CertificateResponse = z.infer<typeof CertificateResponseSchema>
// A thousand record ids per block, each checked by the schema, cost a service more than the
// commit's signatures: the ids are checked here, the small header and commit by their schemas.
addQuickCheck(CertificateResponseSchema, value => hasExactly(value, ['blocks']) && Array.isArray(value.blocks) && value.blocks.length <= MAX_BATCH &&
  value.blocks.every(b => hasExactly(b, ['header', 'commit', 'recordIds']) && isHashList(b.recordIds, LIMITS.blockRecordsCeiling) &&
    BlockHeaderSchema.safeParse(b.header).success && CommitSchema.safeParse(b.commit).success))

export const VerifyRequestSchema = z.strictObject({ id: hash32, dataHash: hash32 })
export type VerifyRequest = z.infer<typeof VerifyRequestSchema>

/** A node's signed answer to "does this hash match the one anchored under this record id?". */
export const AttestationSchema = z.strictObject({
  chainId: z.string().max(64),
  recordId: hash32,
  presentedHash: hash32,
  /** null when the record is not on this node's chain. */
  anchoredHash: hash32.nullable(),
  match: z.boolean(),
  height: height.nullable(),
  validator: validatorIndex,
  time: uint,
  signature
})
export type Attestation = z.infer<typeof AttestationSchema>
export const VerifyResponseSchema = z.strictObject({ attestation: AttestationSchema })
export type VerifyResponse = z.infer<typeof VerifyResponseSchema>

export const SyncRequestSchema = z.strictObject({ fromHeight: height, max: z.number().int().min(1).max(MAX_SYNC_BLOCKS) })
export type SyncRequest = z.infer<typeof SyncRequestSchema>
export const SyncResponseSchema = z.strictObject({ blocks: z.array(z.strictObject({ block: BlockSchema, commit: CommitSchema })).max(MAX_SYNC_BLOCKS) })
export type SyncResponse = z.infer<typeof SyncResponseSchema>

/** Records by id, for a validator rebuilding a compact proposal; null for ids the node does not hold. */
export const RecordsRequestSchema = z.strictObject({ ids: z.array(hash32).min(1).max(LIMITS.blockRecordsCeiling) })
export type RecordsRequest = z.infer<typeof RecordsRequestSchema>
export const RecordsResponseSchema = z.strictObject({ records: z.array(LedgerRecordSchema.nullable()).max(LIMITS.blockRecordsCeiling) })
export type RecordsResponse = z.infer<typeof RecordsResponseSchema>

/** Any response may instead be a refusal with a stable code. */
export const ErrorResponseSchema = z.strictObject({ error: z.strictObject({ code: z.string().max(64), message: z.string().max(1024) }) })
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>

const ATTESTATION_DOMAIN = 'trustnet/attestation/v1'

export function attestationSignBytes (a: Omit<Attestation, 'signature'>): Uint8Array {
  return encode([ATTESTATION_DOMAIN, a.chainId, a.recordId, a.presentedHash, a.anchoredHash, a.match, a.height, a.validator, a.time])
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
