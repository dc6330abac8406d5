/**
 * The validators of a network and what follows from their number: n >= 3f+1 tolerates f faulty,
 * a quorum is floor(2n/3)+1, which is 2f+1 when n = 3f+1 (n = 1: f = 0, quorum 1). Also the leader of each (height, round).
 */
import { isWeakPublicKey } from './ed25519.js'
import { invalid } from './errors.js'
import type { Genesis } from './types.js'
import { toHex } from './ids.js'

export class ValidatorSet {
  readonly publicKeys: readonly Uint8Array[]
  readonly size: number
  readonly maxFaulty: number
  readonly quorum: number
  private readonly indexByKey: Map<string, number>

  constructor (genesis: Genesis) {
    this.publicKeys = genesis.validators.map(v => v.publicKey)
    this.size = this.publicKeys.length
    this.maxFaulty = Math.floor((this.size - 1) / 3)
    // More than 2/3 of n: any two quorums share at least f+1 validators, one of them honest, whatever n is.
    // Equals 2f+1 when n = 3f+1; plain 2f+1 would let two quorums of n = 5 (3 each) share only one, maybe faulty, validator.
    this.quorum = Math.floor((2 * this.size) / 3) + 1
    this.indexByKey = new Map(this.publicKeys.map((k, i) => [toHex(k), i]))
    if (this.indexByKey.size !== this.size) throw invalid('INVALID_GENESIS', 'validator public keys must be distinct')
    const weak = this.publicKeys.findIndex(isWeakPublicKey)
    if (weak !== -1) throw invalid('INVALID_GENESIS', `validator ${weak} has a public key of small order, or not a curve point`)
  }

  publicKey (index: number): Uint8Array | undefined {
    return this.publicKeys[index]
  }

  indexOf (publicKey: Uint8Array): number | undefined {
    return this.indexByKey.get(toHex(publicKey))
  }

  /** Round-robin leader; shifting by height spreads the first round of each height over all validators. */
  proposer (height: number, round: number): number {
    return (height + round) % this.size
  }
}
