/**
 * Checking a commit: at least a quorum of distinct validators' precommit signatures on one block.
 * Strict on purpose: every signature present must be valid and validators must be in ascending
 * order, so a commit has exactly one encoding and no byte of it can change unnoticed.
 */
import { invalid } from './errors.js'
import { defaultEd25519, type Ed25519 } from './ed25519.js'
import { equalBytes } from './codec.js'
import { voteSignBytes } from './sign-bytes.js'
import type { Commit } from './types.js'
import type { ValidatorSet } from './validator-set.js'

export function verifyCommit (validators: ValidatorSet, chainId: string, commit: Commit, blockHash: Uint8Array, ed: Ed25519 = defaultEd25519): void {
  if (!equalBytes(commit.blockHash, blockHash)) throw invalid('INVALID_COMMIT', 'commit is for another block')
  if (commit.signatures.length < validators.quorum) {
    throw invalid('INVALID_COMMIT', `commit has ${commit.signatures.length} signatures, quorum is ${validators.quorum}`)
  }
  const message = voteSignBytes(chainId, 'precommit', commit.height, commit.round, commit.blockHash)
  let previous = -1
  for (const { validator, signature } of commit.signatures) {
    if (validator <= previous) throw invalid('INVALID_COMMIT', 'commit signatures must be in ascending validator order, without repeats')
    previous = validator
    const key = validators.publicKey(validator)
    if (key === undefined) throw invalid('UNKNOWN_VALIDATOR', `validator ${validator} is not in the validator set`)
    if (!ed.verify(key, message, signature)) throw invalid('BAD_SIGNATURE', `precommit signature of validator ${validator} is invalid`)
  }
}
