/**
 * The validators of a network and what follows from their number: n = 3f+1 tolerates f faulty,
 * a quorum is 2f+1 (n = 1: f = 0, quorum 1). Also the leader of each (height, round).
 */
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
    this.quorum = 2 * this.maxFaulty + 1
    this.indexByKey = new Map(this.publicKeys.map((k, i) => [toHex(k), i]))
    if (this.indexByKey.size !== this.size) throw invalid('INVALID_GENESIS', 'validator public keys must be distinct')
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
