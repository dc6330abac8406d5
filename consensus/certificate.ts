/**
 * Certificates: a record, the header of the block holding it, its Merkle inclusion proof and the
 * block's commit. Verified with nothing but the genesis: the record is in the block (Merkle), the
 * block is the one a quorum of the genesis validators precommitted (signatures), on this chain.
 */
import { verifyCommit } from './commit.js'
import { defaultEd25519, type Ed25519 } from './ed25519.js'
import { TrustnetError, invalid, type ErrorCode } from './errors.js'
import { headerHash, recordId, toHex } from './ids.js'
import { merkleProof, merkleTree, verifyInclusion } from './merkle.js'
import type { Block, BlockHeader, Certificate, Commit, Genesis, InclusionProof, LedgerRecord } from './types.js'
import { CertificateSchema, GenesisSchema } from './types.js'
import { equalBytes, validate } from './codec.js'
import { ValidatorSet } from './validator-set.js'
import { BoundedMap } from '../lib/bounded-map.js'

export type CertificateVerdict =
  | { valid: true }
  | { valid: false, reason: ErrorCode, message: string }

/** A block's header with the commit that seals it: the part every certificate of the block shares. */
export interface BlockSeal { header: BlockHeader, commit: Commit }

/** The certificate of `record` at `proof` in the sealed block (shares the seal's objects). */
export function certificateOf (record: LedgerRecord, seal: BlockSeal, proof: InclusionProof): Certificate {
  return { v: 1, chainId: seal.header.chainId, record, header: seal.header, proof, commit: seal.commit }
}

export function buildCertificate (block: Block, commit: Commit, recordIndex: number): Certificate {
  const record = block.records[recordIndex]
  if (record === undefined) throw new RangeError(`block ${block.header.height} has no record ${recordIndex}`)
  const proof = merkleProof(block.records.map(recordId), recordIndex)
  return { v: 1, chainId: block.header.chainId, record, header: block.header, proof, commit }
}

/** Checks one certificate against a genesis; for many, keep a CertificateVerifier. */
export function verifyCertificate (genesis: Genesis, certificate: unknown, ed: Ed25519 = defaultEd25519): CertificateVerdict {
  try {
    return new CertificateVerifier(genesis, ed).verify(certificate)
  } catch (err) {
    if (err instanceof TrustnetError) return refuse(err.code, err.message)
    throw err
  }
}

/** Commits already checked, remembered up to this many: the records of one block share one commit. */
const VERIFIED_COMMITS = 1024

/**
 * Verifies certificates against one genesis. It checks the genesis once, and the commit
 * signatures of each block once: every certificate of a block carries the same commit, so
 * after the first only its Merkle proof and the binding to that commit are new work.
 */
export class CertificateVerifier {
  private readonly genesis: Genesis
  private readonly validators: ValidatorSet
  private readonly verified = new BoundedMap<string, true>(VERIFIED_COMMITS)

  /** `rememberCommits: false` checks every certificate's signatures afresh (for measuring the full check). */
  constructor (genesis: Genesis, private readonly ed: Ed25519 = defaultEd25519, private readonly options: { rememberCommits?: boolean } = {}) {
    this.genesis = validate(GenesisSchema, genesis)
    this.validators = new ValidatorSet(this.genesis)
  }

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
      this.checkHeader(cert.header, cert.commit)
      if (!verifyInclusion(recordId(cert.record), cert.proof, cert.header.recordCount, cert.header.recordsRoot)) {
        return refuse('INVALID_PROOF', 'the record is not included in the block under this proof')
      }
      this.checkCommit(cert.header, cert.commit)
      return { valid: true }
    } catch (err) {
      if (err instanceof TrustnetError) return refuse(err.code, err.message)
      throw err
    }
  }

  /**
   * Checks a whole block's record ids against its header and commit, and returns the inclusion
   * proof of every id, in block order. The certificates built from them are as valid as ones a
   * node built: same root, same commit. Throws TrustnetError when anything does not hold.
   */
  blockProofs (header: BlockHeader, commit: Commit, recordIds: readonly Uint8Array[]): InclusionProof[] {
    this.checkHeader(header, commit)
    if (recordIds.length !== header.recordCount) {
      throw invalid('INVALID_PROOF', `block ${header.height} holds ${header.recordCount} records, ${recordIds.length} ids were given`)
    }
    const tree = merkleTree(recordIds)
    if (!equalBytes(tree.root, header.recordsRoot)) throw invalid('INVALID_PROOF', `the ids do not build block ${header.height}'s records root`)
    this.checkCommit(header, commit)
    return tree.proofs
  }

  /** A header and the commit sealing it, signatures included (remembered like any commit); throws TrustnetError. */
  checkSeal (header: BlockHeader, commit: Commit): void {
    this.checkHeader(header, commit)
    this.checkCommit(header, commit)
  }

  /** What can be checked of a header and its commit without signatures. */
  private checkHeader (header: BlockHeader, commit: Commit): void {
    const g = this.genesis
    if (header.chainId !== g.chainId) throw invalid('WRONG_CHAIN', `certificate is for chain ${header.chainId}, genesis is ${g.chainId}`)
    if (commit.height !== header.height) throw invalid('INVALID_COMMIT', 'commit height differs from the block height')
    if (header.recordCount > g.params.maxBlockRecords) throw invalid('INVALID_BLOCK', 'block holds more records than the network allows')
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

function commitKey (blockHash: Uint8Array, commit: Commit): string {
  let key = `${toHex(blockHash)}:${commit.height}:${commit.round}:${toHex(commit.blockHash)}`
  for (const s of commit.signatures) key += `:${s.validator}:${toHex(s.signature)}`
  return key
}

function refuse (reason: ErrorCode, message: string): CertificateVerdict {
  return { valid: false, reason, message }
}
