/**
 * The verdicts the client commands reach on their own, with nothing but the genesis: what a
 * certificate certifies about a file (offline). A plain value, printed by the commands; the
 * validators' attestations about a stored copy are counted by the client library (client/verify.ts).
 */
import { verifyCertificate } from '../consensus/certificate.js'
import { TrustnetError } from '../consensus/errors.js'
import { toHex } from '../consensus/ids.js'
import type { Certificate, Genesis } from '../consensus/types.js'

/** What a valid certificate certifies about the file it was checked with. */
export interface Certified {
  valid: true
  dataHash: string
  name?: string
  contentType?: string
  size?: number
  service: string
  /** The record's entry: the service's id for the item. */
  entry: string
  height: number
  /** The block's time, ISO 8601 (the proposer's clock). */
  time: string
  /** Names (from the genesis) of the validators whose precommits seal the block. */
  signers: string[]
}

/** Refusal codes of the client beyond the certificate's own (consensus/errors.ts). */
export type ClientReason = 'DATA_MISMATCH' | 'STORED_DATA_CHANGED' | 'STORED_DATA_MISSING' | 'UNCONFIRMED'

export interface Refused { valid: false, reason: string, message: string }

/** Checks `certificate` against the genesis and that its record's dataHash is `fileHash`. */
export function certify (genesis: Genesis, certificate: Certificate, fileHash: string): Certified | Refused {
  const verdict = verifyCertificate(genesis, certificate)
  if (!verdict.valid) return { valid: false, reason: verdict.reason, message: verdict.message }
  const dataHash = toHex(certificate.record.dataHash)
  if (dataHash !== fileHash) {
    return { valid: false, reason: 'DATA_MISMATCH', message: `the file's SHA-256 is ${fileHash}, the certificate certifies ${dataHash}` }
  }
  const { name, contentType, size } = certificate.record.meta
  return {
    valid: true,
    dataHash,
    ...(name !== undefined ? { name } : {}),
    ...(contentType !== undefined ? { contentType } : {}),
    ...(size !== undefined ? { size } : {}),
    service: verdict.service,
    entry: verdict.entry,
    height: verdict.height,
    time: new Date(verdict.time).toISOString(),
    signers: verdict.signers.map(i => genesis.validators[i]?.name ?? `#${i}`)
  }
}

/** A certificate that could not even be read is refused like one that fails its checks. */
export function refusalOf (err: TrustnetError): Refused {
  return { valid: false, reason: err.code, message: err.message }
}
