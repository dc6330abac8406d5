/**
 * The verdicts the client commands reach on their own, with nothing but the genesis: what a
 * certificate certifies about a file (offline), and how many validators' signed attestations
 * back the service's answer about its stored copy. Both are plain values, printed by the commands.
 */
import { verifyCertificate } from '../consensus/certificate.js'
import { TrustnetError } from '../consensus/errors.js'
import { fromJson } from '../consensus/json.js'
import { toHex } from '../consensus/ids.js'
import type { Certificate, Genesis } from '../consensus/types.js'
import { ValidatorSet } from '../consensus/validator-set.js'
import { AttestationSchema, verifyAttestation } from '../protocol/node-api.js'

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

export interface AttestationTally {
  /** Distinct validators whose valid signed attestation says the service's rebuilt entry is the one anchored at the certificate's place. */
  matches: string[]
  /** Distinct validators whose valid signed attestation says another entry is anchored there than the one rebuilt from the stored data. */
  mismatches: string[]
  quorum: number
}

/**
 * Counts the attestations (in their JSON form, as the service relays them) that hold for this
 * certificate: signed by the validator they name on this chain, about the certificate's height
 * and leaf, and anchoring the certificate's own entry. Anything else (forged, about another
 * place or entry, unreadable) counts for nothing.
 */
export function tallyAttestations (genesis: Genesis, certificate: Certificate, entry: string, attestations: readonly unknown[]): AttestationTally {
  const matches = new Set<number>()
  const mismatches = new Set<number>()
  for (const json of attestations) {
    let a
    try {
      a = fromJson(AttestationSchema, json)
    } catch (err) {
      if (err instanceof TrustnetError) continue
      throw err
    }
    if (!verifyAttestation(genesis, a)) continue
    if (a.height !== certificate.header.height || a.index !== certificate.proof.index) continue
    if (a.anchored === null || toHex(a.anchored) !== entry) continue
    const presented = toHex(a.entry)
    if (a.outcome === 'match' && presented === entry) matches.add(a.validator)
    else if (a.outcome === 'mismatch' && presented !== entry) mismatches.add(a.validator)
  }
  const names = (set: Set<number>): string[] => [...set].sort((x, y) => x - y).map(i => genesis.validators[i]?.name ?? `#${i}`)
  return { matches: names(matches), mismatches: names(mismatches), quorum: new ValidatorSet(genesis).quorum }
}
