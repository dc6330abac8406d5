import { describe, expect, it } from 'vitest'
import { LIMITS } from '../../consensus/limits.js'
import { ValidatorSet } from '../../consensus/validator-set.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { makeNetwork, refusal, testSeed } from '../helpers/fixtures.js'

/** Real keys for as many validators as a network may have, derived once. */
const KEYS = Array.from({ length: LIMITS.validatorsCeiling }, (_, i) => defaultEd25519.publicKey(testSeed(`validator-set/${i}`)))

/** A genesis of n validators with distinct keys. */
function setOf (n: number): ValidatorSet {
  const base = makeNetwork(1).genesis
  const validators = KEYS.slice(0, n).map((publicKey, i) => ({ name: `v${i}`, publicKey }))
  return new ValidatorSet({ ...base, validators })
}

describe('ValidatorSet thresholds', () => {
  it('has f = (n-1)/3 and quorum 2f+1 for n = 3f+1', () => {
    for (let f = 0; f <= 20; f++) {
      const set = setOf(3 * f + 1)
      expect([set.size, set.maxFaulty, set.quorum]).toEqual([3 * f + 1, f, 2 * f + 1])
    }
  })

  it('matches a table of small sizes', () => {
    const table: Array<[number, number, number]> = [[1, 0, 1], [2, 0, 2], [3, 0, 3], [4, 1, 3], [5, 1, 4], [6, 1, 5], [7, 2, 5], [10, 3, 7], [100, 33, 67]]
    for (const [n, f, q] of table) {
      const set = setOf(n)
      expect([set.maxFaulty, set.quorum], `n = ${n}`).toEqual([f, q])
    }
  })

  it('for every size up to the ceiling: two quorums share an honest validator, and the honest alone reach a quorum', () => {
    for (let n = 1; n <= LIMITS.validatorsCeiling; n++) {
      const { quorum, maxFaulty } = setOf(n)
      // safety: |Q1 ∩ Q2| >= 2q - n must exceed the f validators that may lie
      expect(2 * quorum - n, `n = ${n}`).toBeGreaterThan(maxFaulty)
      // liveness: with f down the rest still make a quorum
      expect(n - maxFaulty, `n = ${n}`).toBeGreaterThanOrEqual(quorum)
      expect(quorum).toBeLessThanOrEqual(n)
    }
  })
})

describe('ValidatorSet lookups', () => {
  const net = makeNetwork(4)
  const set = net.validators

  it('finds keys by index and indices by key', () => {
    net.genesis.validators.forEach((v, i) => {
      expect(set.publicKey(i)).toEqual(v.publicKey)
      expect(set.indexOf(v.publicKey)).toBe(i)
      expect(set.indexOf(Uint8Array.from(v.publicKey))).toBe(i)
    })
    expect(set.publicKey(4)).toBeUndefined()
    expect(set.publicKey(-1)).toBeUndefined()
    expect(set.indexOf(makeNetwork(1, { keyLabel: 'stranger' }).genesis.validators[0]?.publicKey as Uint8Array)).toBeUndefined()
  })

  it('refuses a genesis with a repeated public key (INVALID_GENESIS)', () => {
    const [a, b] = net.genesis.validators as [{ name: string, publicKey: Uint8Array }, { name: string, publicKey: Uint8Array }]
    const genesis = { ...net.genesis, validators: [a, b, { name: 'again', publicKey: Uint8Array.from(a.publicKey) }] }
    expect(refusal(() => new ValidatorSet(genesis))).toEqual({ name: 'InvalidInputError', code: 'INVALID_GENESIS' })
  })

  it('rotates the proposer over every validator, shifted by height and round', () => {
    for (const n of [1, 4, 7]) {
      const s = makeNetwork(n).validators
      const firstRound = Array.from({ length: n }, (_, k) => s.proposer(k + 1, 0))
      expect([...firstRound].sort((a, b) => a - b)).toEqual([...Array(n).keys()])
      for (let h = 1; h < 20; h++) {
        for (let r = 0; r < 5; r++) {
          expect(s.proposer(h, r)).toBe((h + r) % n)
          if (n > 1) expect(s.proposer(h, r + 1)).not.toBe(s.proposer(h, r))
        }
      }
    }
  })
})

describe('ValidatorSet keys', () => {
  it('refuses a genesis with a small-order key (it would verify forged signatures)', () => {
    const base = makeNetwork(4).genesis
    const identity = Uint8Array.of(1, ...new Array<number>(31).fill(0)) // the identity point
    const weak = { ...base, validators: [...base.validators.slice(0, 3), { name: 'weak', publicKey: identity }] }
    expect(refusal(() => new ValidatorSet(weak))).toEqual({ name: 'InvalidInputError', code: 'INVALID_GENESIS' })
    const notAPoint = { ...base, validators: [...base.validators.slice(0, 3), { name: 'junk', publicKey: new Uint8Array(32).fill(0xff) }] }
    expect(refusal(() => new ValidatorSet(notAPoint))).toEqual({ name: 'InvalidInputError', code: 'INVALID_GENESIS' })
  })
})
