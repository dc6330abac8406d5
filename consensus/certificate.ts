/**
 * Certificates: a record, the header of the block holding it, its Merkle inclusion proof and the
 * block's commit. Verified with nothing but the genesis: the record is in the block (Merkle), the
 * block is the one a quorum of the genesis validators precommitted (signatures), on this chain.
 */
import { verifyCommit } from './commit.js'
import { defaultEd25519, type Ed25519 } from './ed25519.js'
import { TrustnetError, type ErrorCode } from './errors.js'
import { headerHash, recordId, toHex } from './ids.js'
import { merkleProof, verifyInclusion } from './merkle.js'
import type { Block, Certificate, Commit, Genesis } from './types.js'
import { CertificateSchema, GenesisSchema } from './types.js'
import { validate } from './codec.js'
import { ValidatorSet } from './validator-set.js'

export type CertificateVerdict =
  | { valid: true }
  | { valid: false, reason: ErrorCode, message: string }

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
  private readonly verified = new Set<string>()

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
      const g = this.genesis
      if (cert.chainId !== g.chainId || cert.header.chainId !== g.chainId) {
        return refuse('WRONG_CHAIN', `certificate is for chain ${cert.header.chainId}, genesis is ${g.chainId}`)
      }
      if (cert.commit.height !== cert.header.height) return refuse('INVALID_COMMIT', 'commit height differs from the block height')
      if (cert.header.recordCount > g.params.maxBlockRecords) return refuse('INVALID_BLOCK', 'block holds more records than the network allows')
      if (!verifyInclusion(recordId(cert.record), cert.proof, cert.header.recordCount, cert.header.recordsRoot)) {
        return refuse('INVALID_PROOF', 'the record is not included in the block under this proof')
      }
      if (cert.header.proposer >= this.validators.size) return refuse('INVALID_BLOCK', 'block proposer is not a validator')
      const blockHash = headerHash(cert.header)
      // The key covers the header hash and every signed field of the commit: any change is checked afresh.
      const key = commitKey(blockHash, cert.commit)
      if (!this.verified.has(key)) {
        verifyCommit(this.validators, g.chainId, cert.commit, blockHash, this.ed)
        if (this.verified.size >= VERIFIED_COMMITS) this.verified.clear()
        if (this.options.rememberCommits !== false) this.verified.add(key)
      }
      return { valid: true }
    } catch (err) {
      if (err instanceof TrustnetError) return refuse(err.code, err.message)
      throw err
    }
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
