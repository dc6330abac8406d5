/**
 * What the ledger holds: fixed-size entries, each a salted commitment to a record that only the
 * service and its client see. A service signs a batch of entries once (a submission); a block's
 * leaves are its submissions' entries in order, each bound to the index of the service that
 * signed it, so a certificate proves which registered service anchored its record. The byte
 * layouts here are the ones docs/certificate.md specifies.
 */
import { encode } from './codec.js'
import { defaultEd25519, isWeakPublicKey, type Ed25519 } from './ed25519.js'
import { invalid } from './errors.js'
import { DOMAIN, taggedHash } from './hash.js'
import { LIMITS } from './limits.js'
import type { Genesis, LedgerRecord, Submission } from './types.js'

const ENTRY_BYTES = LIMITS.hashBytes

/**
 * The entry of a record: SHA-256 over the domain tag, a zero byte, the 32-byte salt and the
 * record's canonical CBOR. Without the salt nobody can confirm a guessed document or name.
 */
export function entryOf (record: LedgerRecord, salt: Uint8Array): Uint8Array {
  if (salt.length !== LIMITS.saltBytes) throw invalid('INVALID_FIELD', `salt must be ${LIMITS.saltBytes} bytes`, { path: 'salt' })
  return taggedHash(DOMAIN.entry, salt, encode(record))
}

/** The leaf a block holds for an entry: the submitting service's index (u16, big-endian) then the entry. */
export function leafBytes (service: number, entry: Uint8Array): Uint8Array {
  const leaf = new Uint8Array(2 + ENTRY_BYTES)
  leaf[0] = service >> 8
  leaf[1] = service & 0xff
  leaf.set(entry, 2)
  return leaf
}

/** Number of entries in a submission. */
export function entryCount (submission: Pick<Submission, 'entries'>): number {
  return submission.entries.length / ENTRY_BYTES
}

/** The i-th entry of a submission, as a view (no copy). */
export function entryAt (submission: Pick<Submission, 'entries'>, i: number): Uint8Array {
  return submission.entries.subarray(i * ENTRY_BYTES, (i + 1) * ENTRY_BYTES)
}

/** Every entry of a submission, as views. */
export function entriesOf (submission: Pick<Submission, 'entries'>): Uint8Array[] {
  return Array.from({ length: entryCount(submission) }, (_, i) => entryAt(submission, i))
}

/** The leaves of a block (or of any run of submissions), in order. */
export function leavesOf (submissions: readonly Pick<Submission, 'service' | 'entries'>[]): Uint8Array[] {
  const leaves: Uint8Array[] = []
  for (const s of submissions) for (let i = 0; i < entryCount(s); i++) leaves.push(leafBytes(s.service, entryAt(s, i)))
  return leaves
}

/** Join entries into the byte string a submission carries. */
export function packEntries (entries: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(entries.length * ENTRY_BYTES)
  entries.forEach((e, i) => {
    if (e.length !== ENTRY_BYTES) throw invalid('INVALID_FIELD', `entry ${i} is ${e.length} bytes, not ${ENTRY_BYTES}`, { path: `entries.${i}` })
    out.set(e, i * ENTRY_BYTES)
  })
  return out
}

/** The bytes a service signs: the domain tag, the chain id, its index and the entries, as canonical CBOR. */
export function submissionSignBytes (chainId: string, service: number, entries: Uint8Array): Uint8Array {
  return encode([DOMAIN.submission, chainId, service, entries])
}

export function signSubmission (chainId: string, service: number, entries: Uint8Array, seed: Uint8Array, ed: Ed25519 = defaultEd25519): Submission {
  return { service, entries, signature: ed.sign(seed, submissionSignBytes(chainId, service, entries)) }
}

/** The services a genesis registers: their keys by index, their indexes by name, and submission checks. */
export class ServiceSet {
  readonly size: number
  private readonly names: readonly string[]
  private readonly keys: readonly Uint8Array[]
  private readonly indexByName: Map<string, number>

  constructor (genesis: Pick<Genesis, 'services'>) {
    this.names = genesis.services.map(s => s.name)
    this.keys = genesis.services.map(s => s.publicKey)
    this.size = this.keys.length
    this.indexByName = new Map(this.names.map((n, i) => [n, i]))
    if (this.indexByName.size !== this.size) throw invalid('INVALID_GENESIS', 'service names must be distinct')
    const weak = this.keys.findIndex(isWeakPublicKey)
    if (weak !== -1) throw invalid('INVALID_GENESIS', `service ${weak} has a public key of small order, or not a curve point`)
  }

  indexOf (name: string): number | undefined {
    return this.indexByName.get(name)
  }

  name (index: number): string | undefined {
    return this.names[index]
  }

  publicKey (index: number): Uint8Array | undefined {
    return this.keys[index]
  }

  /** Throws UNKNOWN_SERVICE or BAD_SIGNATURE unless a registered service signed this submission for this chain. */
  check (chainId: string, submission: Submission, ed: Ed25519 = defaultEd25519): void {
    const key = this.keys[submission.service]
    if (key === undefined) throw invalid('UNKNOWN_SERVICE', `service ${submission.service} is not registered in the genesis`, { service: submission.service })
    if (!ed.verify(key, submissionSignBytes(chainId, submission.service, submission.entries), submission.signature)) {
      throw invalid('BAD_SIGNATURE', `submission is not signed by service ${submission.service}`, { service: submission.service })
    }
  }
}
