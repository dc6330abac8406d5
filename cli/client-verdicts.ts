/**
 * The verdicts the client commands reach on their own, with nothing but the genesis: what a
 * certificate certifies about a file (offline). A plain value, printed by the commands; the
 * validators' attestations about a stored copy are counted by the client library (client/verify.ts).
 */
import { checkFileCertificate, type CertifiedFile, type FileRefusal } from '../client/verify.js'
import { TrustnetError } from '../consensus/errors.js'
import type { Certificate, Genesis } from '../consensus/types.js'

/** What a valid certificate certifies about the file it was checked with, the block's time as ISO 8601. */
export type Certified = Omit<CertifiedFile, 'time'> & { time: string }

/** Refusal codes of the client beyond the certificate's own (consensus/errors.ts). */
export type ClientReason = 'DATA_MISMATCH' | 'STORED_DATA_CHANGED' | 'STORED_DATA_MISSING' | 'UNCONFIRMED'

export type Refused = FileRefusal

/** Checks `certificate` against the genesis and that its record's dataHash is `fileHash` (the client library's check), the time as ISO 8601. */
export function certify (genesis: Genesis, certificate: Certificate, fileHash: string): Certified | Refused {
  const verdict = checkFileCertificate(genesis, certificate, fileHash)
  return verdict.valid ? { ...verdict, time: new Date(verdict.time).toISOString() } : verdict
}

/** A certificate that could not even be read is refused like one that fails its checks. */
export function refusalOf (err: TrustnetError): Refused {
  return { valid: false, reason: err.code, message: err.message }
}
