/**
 * Certificates (v3): a record and its salt, the header of the block holding the record's entry,
 * the entry's Merkle inclusion proof and the block's commit. Verified with nothing but the
 * genesis (optionally pinned by its fingerprint): the header names this genesis, the record
 * names a registered service, its salted entry bound to that service is a leaf under the
 * header's root, and the header is the one a quorum of the genesis validators precommitted.
 * docs/certificate.md specifies every byte and the order of checks.
 */
import { verifyCommit } from './commit.js'
import { defaultEd25519, type Ed25519 } from './ed25519.js'
import { entryOf, leafBytes, leavesOf, ServiceSet } from './entries.js'
import { TrustnetError, invalid, type ErrorCode } from './errors.js'
import { checkGenesisPin } from './genesis-fingerprint.js'
import { genesisHash, headerHash, toHex } from './ids.js'
import { merkleTree, verifyInclusion } from './merkle.js'
import type { Block, BlockHeader, Certificate, Commit, Genesis, InclusionProof, LedgerRecord } from './types.js'
import { CertificateSchema, GenesisSchema } from './types.js'
import { equalBytes, validate } from './codec.js'
import { ValidatorSet } from './validator-set.js'
import { BoundedMap } from '../lib/bounded-map.js'

/** What a valid certificate certifies. */
export interface CertifiedEntry {
  valid: true
  /** The registered service that anchored the record (its name in the genesis). */
  service: string
  /** The record's entry (lowercase hex): the salted commitment the ledger holds. */
  entry: string
  /** Height and time (ms since the epoch, the proposer's clock) of the block holding it. */
  height: number
  time: number
  /** Indexes in genesis.validators of the validators whose precommits seal the block, ascending. */
  signers: number[]
}

export interface CertificateRefusal { valid: false, reason: ErrorCode, message: string }

export type CertificateVerdict = CertifiedEntry | CertificateRefusal

/** A block's header with the commit that seals it: the part every certificate of the block shares. */
export interface BlockSeal { header: BlockHeader, commit: Commit }

/** The certificate of `record` (with its `salt`) at `proof` in the sealed block; shares the seal's objects. */
export function certificateOf (record: LedgerRecord, salt: Uint8Array, seal: BlockSeal, proof: InclusionProof): Certificate {
  return { v: 3, chainId: seal.header.chainId, record, salt, header: seal.header, proof, commit: seal.commit }
}

/**
 * The certificate of the leaf at `leafIndex` of a committed block, for the record and salt whose
 * entry that leaf holds. Throws RangeError for an index outside the block, and ENTRY_MISMATCH
 * when the leaf holds another entry.
 */
export function buildCertificate (block: Block, commit: Commit, leafIndex: number, record: LedgerRecord, salt: Uint8Array): Certificate {
  const leaves = leavesOf(block.submissions)
  const leaf = leaves[leafIndex]
  if (leaf === undefined) throw new RangeError(`block ${block.header.height} has no leaf ${leafIndex}`)
  if (!equalBytes(leaf.subarray(2), entryOf(record, salt))) {
    throw invalid('ENTRY_MISMATCH', `leaf ${leafIndex} of block ${block.header.height} holds another entry`, { index: leafIndex })
  }
  const proof = merkleTree(leaves).proofs[leafIndex] as InclusionProof
  return certificateOf(record, salt, { header: block.header, commit }, proof)
}

export interface VerifyOptions {
  /**
   * The genesis fingerprint (genesis-fingerprint.ts) the caller trusts: a genesis that does not
   * hash to it is refused (GENESIS_PIN_MISMATCH) before any certificate is looked at.
   */
  pin?: string | undefined
  /** @default defaultEd25519 */
  ed?: Ed25519
}

/** Checks one certificate against a genesis; for many, keep a CertificateVerifier. */
export function verifyCertificate (genesis: Genesis, certificate: unknown, options: VerifyOptions = {}): CertificateVerdict {
  try {
    return new CertificateVerifier(genesis, options.ed, { pin: options.pin }).verify(certificate)
  } catch (err) {
    if (err instanceof TrustnetError) return refuse(err.code, err.message)
    throw err
  }
}

/** Commits already checked, remembered up to this many: the certificates of one block share one commit. */
const VERIFIED_COMMITS = 1024

/**
 * Verifies certificates against one genesis. It checks the genesis once, and the commit
 * signatures of each block once: every certificate of a block carries the same commit, so
 * after the first only its entry, Merkle proof and the binding to that commit are new work.
 * The constructor throws TrustnetError (INVALID_FIELD, INVALID_GENESIS) for a bad genesis, and
 * (INVALID_PIN, GENESIS_PIN_MISMATCH) for one that is not the pinned one.
 */
export class CertificateVerifier {
  private readonly genesis: Genesis
  private readonly genesisHash: Uint8Array
  private readonly validators: ValidatorSet
  private readonly services: ServiceSet
  private readonly verified = new BoundedMap<string, true>(VERIFIED_COMMITS)

  /**
   * `pin`: the genesis fingerprint the caller trusts (VerifyOptions). `rememberCommits: false`
   * checks every certificate's signatures afresh (for measuring the full check).
   */
  constructor (genesis: Genesis, private readonly ed: Ed25519 = defaultEd25519, private readonly options: { pin?: string | undefined, rememberCommits?: boolean } = {}) {
    this.genesis = validate(GenesisSchema, genesis)
    if (options.pin !== undefined) checkGenesisPin(this.genesis, options.pin)
    this.genesisHash = genesisHash(this.genesis)
    this.validators = new ValidatorSet(this.genesis)
    this.services = new ServiceSet(this.genesis)
  }

  /** Checks any value: a refusal is a verdict, never a throw. */
  verify (certificate: unknown): CertificateVerdict {
    try {
      return this.verifyChecked(validate(CertificateSchema, certificate))
    } catch (err) {
      if (err instanceof TrustnetError) return refuse(err.code, err.message)
      throw err
    }
  }

  /** verify() for a value already checked against CertificateSchema (decoded with it). */
  verifyChecked (cert: Certificate): CertificateVerdict {
    try {
      if (cert.chainId !== this.genesis.chainId) return refuse('WRONG_CHAIN', `certificate is for chain ${cert.chainId}, genesis is ${this.genesis.chainId}`)
      if (cert.header.chainId !== this.genesis.chainId) return refuse('WRONG_CHAIN', `block is of chain ${cert.header.chainId}, genesis is ${this.genesis.chainId}`)
      if (!equalBytes(cert.header.genesisHash, this.genesisHash)) return refuse('WRONG_GENESIS', wrongGenesis(cert.header))
      const service = this.services.indexOf(cert.record.service)
      if (service === undefined) return refuse('UNKNOWN_SERVICE', `service ${JSON.stringify(cert.record.service)} is not registered in the genesis`)
      const entry = entryOf(cert.record, cert.salt)
      if (!verifyInclusion(leafBytes(service, entry), cert.proof, cert.header.entryCount, cert.header.entriesRoot)) {
        return refuse('INVALID_PROOF', 'the entry of this record and salt, bound to its service, is not included in the block under this proof')
      }
      this.checkSeal(cert.header, cert.commit)
      return {
        valid: true,
        service: cert.record.service,
        entry: toHex(entry),
        height: cert.header.height,
        time: cert.header.time,
        signers: cert.commit.signatures.map(s => s.validator)
      }
    } catch (err) {
      if (err instanceof TrustnetError) return refuse(err.code, err.message)
      throw err
    }
  }

  /**
   * Checks a whole block's leaves (entries.ts leafBytes, in block order) against its header and
   * commit, and returns every leaf's inclusion proof, in block order. Certificates built from
   * them (certificateOf) are as valid as ones a node built: same root, same commit. Throws
   * TrustnetError (WRONG_CHAIN, WRONG_GENESIS, INVALID_COMMIT, INVALID_BLOCK, INVALID_PROOF, UNKNOWN_VALIDATOR,
   * BAD_SIGNATURE) when anything does not hold.
   */
  blockProofs (header: BlockHeader, commit: Commit, leaves: readonly Uint8Array[]): InclusionProof[] {
    this.checkHeader(header, commit)
    if (leaves.length !== header.entryCount) {
      throw invalid('INVALID_PROOF', `block ${header.height} holds ${header.entryCount} entries, ${leaves.length} leaves were given`)
    }
    const tree = merkleTree(leaves)
    if (!equalBytes(tree.root, header.entriesRoot)) throw invalid('INVALID_PROOF', `the leaves do not build block ${header.height}'s entries root`)
    this.checkCommit(header, commit)
    return tree.proofs
  }

  /** blockProofs() for a block as a node sends it: its leaves are its submissions' entries, in order. */
  blockProofsOf (block: Block, commit: Commit): InclusionProof[] {
    return this.blockProofs(block.header, commit, leavesOf(block.submissions))
  }

  /** A header and the commit sealing it, signatures included (remembered like any commit); throws TrustnetError. */
  checkSeal (header: BlockHeader, commit: Commit): void {
    this.checkHeader(header, commit)
    this.checkCommit(header, commit)
  }

  /** What can be checked of a header and its commit without hashing or signatures. */
  private checkHeader (header: BlockHeader, commit: Commit): void {
    const g = this.genesis
    if (header.chainId !== g.chainId) throw invalid('WRONG_CHAIN', `block is of chain ${header.chainId}, genesis is ${g.chainId}`)
    if (!equalBytes(header.genesisHash, this.genesisHash)) throw invalid('WRONG_GENESIS', wrongGenesis(header))
    if (commit.height !== header.height) throw invalid('INVALID_COMMIT', 'commit height differs from the block height')
    if (header.entryCount > g.params.maxBlockEntries) throw invalid('INVALID_BLOCK', 'block holds more entries than the network allows')
    if (header.proposer >= this.validators.size) throw invalid('INVALID_BLOCK', 'block proposer is not a validator')
  }

  /** The commit's signatures, unless this very commit of this very header was checked before. */
  private checkCommit (header: BlockHeader, commit: Commit): void {
    const blockHash = headerHash(header)
    // The key covers the header hash and every signed field of the commit: any change is checked afresh.
    const key = commitKey(blockHash, commit)
    if (this.verified.has(key)) return
    verifyCommit(this.validators, this.genesis.chainId, commit, blockHash, this.ed)
    if (this.options.rememberCommits !== false) this.verified.set(key, true)
  }
}

function wrongGenesis (header: BlockHeader): string {
  return `block ${header.height} names genesis ${toHex(header.genesisHash)}, not the one given (a genesis of the same chain id but other contents)`
}

function commitKey (blockHash: Uint8Array, commit: Commit): string {
  let key = `${toHex(blockHash)}:${commit.height}:${commit.round}:${toHex(commit.blockHash)}`
  for (const s of commit.signatures) key += `:${s.validator}:${toHex(s.signature)}`
  return key
}

function refuse (reason: ErrorCode, message: string): CertificateRefusal {
  return { valid: false, reason, message }
}
