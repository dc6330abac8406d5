/**
 * Checks a client makes with nothing but the network's genesis: a certificate (in the JSON form
 * the service hands out, as JSON text, or as a decoded value) is valid when it proves its record's
 * salted entry sits in a block a quorum of the genesis validators sealed; and a verification
 * answer is believed only when a quorum of distinct validators signed that the item's entry is
 * the one anchored at one place. Neither takes the service's word for anything. Given a pin (the
 * genesis fingerprint learnt from a source the caller trusts), both first refuse a genesis that
 * does not hash to it: a copied genesis with other validator keys cannot pass for the network's.
 */
import { CertificateVerifier, type CertificateRefusal, type CertifiedEntry } from '../consensus/certificate.js'
import { TrustnetError } from '../consensus/errors.js'
import { sha256 } from '../consensus/hash.js'
import { genesisFingerprint, parseFingerprint } from '../consensus/genesis-fingerprint.js'
import { toHex } from '../consensus/ids.js'
import { fromJson, fromJsonText } from '../consensus/json.js'
import { CertificateSchema, GenesisSchema, type Genesis, type RecordMetadata } from '../consensus/types.js'
import { ValidatorSet } from '../consensus/validator-set.js'
import { AttestationSchema, verifyAttestation, type Attestation } from '../protocol/node-api.js'
import { GenesisError } from './errors.js'

/** A valid certificate: who anchored what, where and when, sealed by which validators. */
export interface ValidCertificate extends CertifiedEntry {
  /** The SHA-256 the record anchors (lowercase hex): compare it with the file's. */
  dataHash: string
  /** The record's metadata: name, size, content type, owner, client time, as the service recorded them. */
  meta: RecordMetadata
}

export type CertificateVerdict = ValidCertificate | CertificateRefusal

/** A genesis as a value, as its JSON form (byte fields in hex), or as JSON text. */
export type GenesisInput = Genesis | object | string

/** How much of the genesis to trust. */
export interface PinOptions {
  /** The genesis fingerprint (64 hex characters, as `trustnet genesis` prints it): any other genesis is refused. */
  pin?: string | undefined
}

/**
 * Checks `certificate` against `genesis` offline. A certificate that is not one (bad JSON, a
 * missing field, a wrong type) is a refusal like a forged one: `{ valid: false, reason }` with a
 * stable reason code, never a throw. Throws GenesisError (INVALID_GENESIS) when the genesis
 * itself cannot be read, and (GENESIS_PIN_MISMATCH, INVALID_PIN) when it is not the pinned one:
 * that is the caller's trust root, not the certificate's fault.
 */
export function verifyCertificate (genesis: GenesisInput, certificate: unknown, options: PinOptions = {}): CertificateVerdict {
  const { verifier } = rootOf(genesis, options.pin)
  let cert
  try {
    cert = typeof certificate === 'string' ? fromJsonText(CertificateSchema, certificate) : fromJson(CertificateSchema, certificate)
  } catch (err) {
    if (err instanceof TrustnetError) return { valid: false, reason: err.code, message: err.message }
    throw err
  }
  const verdict = verifier.verifyChecked(cert)
  return verdict.valid ? { ...verdict, dataHash: toHex(cert.record.dataHash), meta: cert.record.meta } : verdict
}

/** What a valid certificate certifies about the file it was checked with; signers named from the genesis. */
export interface CertifiedFile {
  valid: true
  /** The file's SHA-256, which the certificate's record anchors (lowercase hex). */
  dataHash: string
  name?: string
  size?: number
  contentType?: string
  service: string
  /** The record's entry: the service's id for the item. */
  entry: string
  height: number
  /** The block's time, ms since the epoch (its proposer's clock). */
  time: number
  /** Names (from the genesis) of the validators whose precommits seal the block. */
  signers: string[]
}

/** Not valid: the certificate's own refusal code, or DATA_MISMATCH when it certifies other data. */
export interface FileRefusal { valid: false, reason: string, message: string }

/**
 * Checks `certificate` against `genesis` (as verifyCertificate) and that its record anchors
 * `fileHash`, the file's SHA-256 in lowercase hex: what `trustnet check` and the explorer's file
 * check say about a file and its certificate.
 */
export function checkFileCertificate (genesis: GenesisInput, certificate: unknown, fileHash: string, options: PinOptions = {}): CertifiedFile | FileRefusal {
  const verdict = verifyCertificate(genesis, certificate, options)
  if (!verdict.valid) return { valid: false, reason: verdict.reason, message: verdict.message }
  if (verdict.dataHash !== fileHash) {
    return { valid: false, reason: 'DATA_MISMATCH', message: `the file's SHA-256 is ${fileHash}, the certificate certifies ${verdict.dataHash}` }
  }
  const { validators } = rootOf(genesis).genesis
  const { name, size, contentType } = verdict.meta
  return {
    valid: true,
    dataHash: verdict.dataHash,
    ...(name !== undefined ? { name } : {}),
    ...(size !== undefined ? { size } : {}),
    ...(contentType !== undefined ? { contentType } : {}),
    service: verdict.service,
    entry: verdict.entry,
    height: verdict.height,
    time: verdict.time,
    signers: verdict.signers.map(i => validators[i]?.name ?? `#${i}`)
  }
}

/** The genesis as a value, whatever form it came in; throws GenesisError (INVALID_GENESIS). */
export function readGenesis (genesis: GenesisInput): Genesis {
  try {
    return typeof genesis === 'string' ? fromJsonText(GenesisSchema, genesis) : fromJson(GenesisSchema, genesis)
  } catch (err) {
    if (err instanceof TrustnetError) throw new GenesisError('INVALID_GENESIS', `not a valid genesis: ${err.message}`, { reason: err.code })
    throw err
  }
}

/** The fingerprint of a genesis (any form): the hex of the genesis hash every header names. Throws GenesisError (INVALID_GENESIS). */
export function fingerprintOf (genesis: GenesisInput): string {
  return rootOf(genesis).fingerprint
}

/** Throws GenesisError unless `genesis` is a valid genesis (INVALID_GENESIS) whose fingerprint is `pin` (GENESIS_PIN_MISMATCH, INVALID_PIN). */
export function checkFingerprint (genesis: GenesisInput, pin: string): void {
  rootOf(genesis, pin)
}

/** A genesis read once per object, with what checking against it needs: reading it and its keys costs more than a signature. */
interface TrustRoot { genesis: Genesis, fingerprint: string, verifier: CertificateVerifier, quorum: number }
const roots = new WeakMap<object, TrustRoot>()

function rootOf (genesis: GenesisInput, pin?: string): TrustRoot {
  const known = typeof genesis === 'object' ? roots.get(genesis) : undefined
  const root = known ?? readRoot(genesis)
  if (typeof genesis === 'object') roots.set(genesis, root)
  if (pin !== undefined) checkPin(root, pin)
  return root
}

function readRoot (genesis: GenesisInput): TrustRoot {
  const g = readGenesis(genesis)
  try {
    return { genesis: g, fingerprint: genesisFingerprint(g), verifier: new CertificateVerifier(g), quorum: new ValidatorSet(g).quorum }
  } catch (err) {
    if (err instanceof TrustnetError) throw new GenesisError('INVALID_GENESIS', `not a valid genesis: ${err.message}`, { reason: err.code })
    throw err
  }
}

/** Throws GenesisError (GENESIS_PIN_MISMATCH, INVALID_PIN) unless the genesis hashes to `pin`. */
function checkPin (root: TrustRoot, pin: string): void {
  let expected: string
  try {
    expected = parseFingerprint(pin)
  } catch (err) {
    if (err instanceof TrustnetError) throw new GenesisError('INVALID_PIN', err.message)
    throw err
  }
  if (root.fingerprint !== expected) {
    throw new GenesisError('GENESIS_PIN_MISMATCH', `the genesis has fingerprint ${root.fingerprint}, the pinned one is ${expected}`, { fingerprint: root.fingerprint, pin: expected })
  }
}

/** What the validators' signed answers establish about one item, counted by the client itself. */
export interface AttestationTally {
  /** True when `quorum` distinct validators signed that the item's entry is the one anchored at one place. */
  intact: boolean
  /** The most such signed matches found for one place (the expected place's, when one was given). */
  matches: number
  quorum: number
  /** Where the quorum (or the most matches) put the entry; the expected place when one was given; null when no valid answer names one. */
  place: { height: number, index: number } | null
  /** Validators (genesis indexes, ascending) whose valid signed matches at `place` make `matches`. */
  matchedBy: number[]
  /** Validators whose valid signatures say the entry at `place` is the item's, and the one rebuilt from the stored data is not. */
  mismatchedBy: number[]
  /** Answers left out: not an attestation, another chain, a bad signature, about another entry or place, or a validator counted already. */
  rejected: number
}

export interface TallyOptions extends PinOptions {
  /** Count only answers about this place (a certificate's height and leaf index). */
  place?: { height: number, index: number }
}

/**
 * Counts the attestations (JSON form or values) that a validator of `genesis` signed about
 * `entry` (the item's id, lowercase hex) as anchored at their (height, index): matches say the
 * data read back rebuilds it, mismatches that it rebuilds another entry. Without an expected
 * place, the place with the most matches is taken.
 */
export function tallyAttestations (genesis: GenesisInput, entry: string, attestations: readonly unknown[], options: TallyOptions = {}): AttestationTally {
  const { genesis: g, quorum } = rootOf(genesis, options.pin)
  const matchesAt = new Map<string, Set<number>>()
  const mismatchesAt = new Map<string, Set<number>>()
  const expected = options.place === undefined ? undefined : `${options.place.height}:${options.place.index}`
  let rejected = 0
  for (const raw of attestations) {
    let a: Attestation
    try {
      a = fromJson(AttestationSchema, raw)
    } catch {
      rejected++
      continue
    }
    const place = `${a.height}:${a.index}`
    const anchoredHere = a.anchored !== null && toHex(a.anchored) === entry
    const presented = toHex(a.entry)
    const kind = !anchoredHere ? undefined : a.outcome === 'match' && presented === entry ? matchesAt : a.outcome === 'mismatch' && presented !== entry ? mismatchesAt : undefined
    const signers = kind?.get(place) ?? new Set<number>()
    if (kind === undefined || (expected !== undefined && place !== expected) || signers.has(a.validator) || !verifyAttestation(g, a)) {
      rejected++
      continue
    }
    signers.add(a.validator)
    kind.set(place, signers)
  }
  // Without an expected place: the one with the most matches, or with none, the most mismatches.
  const most = (at: Map<string, Set<number>>): string | undefined => [...at].sort((x, y) => y[1].size - x[1].size)[0]?.[0]
  const chosen = expected ?? most(matchesAt) ?? most(mismatchesAt)
  const sorted = (set: Set<number> | undefined): number[] => [...(set ?? [])].sort((x, y) => x - y)
  const matchedBy = chosen === undefined ? [] : sorted(matchesAt.get(chosen))
  const mismatchedBy = chosen === undefined ? [] : sorted(mismatchesAt.get(chosen))
  const [height, index] = chosen === undefined ? [] : chosen.split(':').map(Number)
  return {
    intact: matchedBy.length >= quorum,
    matches: matchedBy.length,
    quorum,
    place: height === undefined || index === undefined ? null : { height, index },
    matchedBy,
    mismatchedBy,
    rejected
  }
}

/** SHA-256 of `data` as lowercase hex: what the service anchors for a file, and what findByDataHash takes. */
export function hashData (data: Uint8Array): string {
  return toHex(sha256(data))
}
