import { describe, expect, it } from 'vitest'
import { sha256 } from '../../consensus/hash.js'
import { HeightVoteSet, VoteSet, blockKey } from '../../consensus/vote-set.js'
import { makeNetwork, signVote } from '../helpers/fixtures.js'

const A = sha256(Uint8Array.of(0xa))
const B = sha256(Uint8Array.of(0xb))
const net = makeNetwork(10)
const vote = (validator: number, hash: Uint8Array | null, round = 0) => signVote(net, validator, 'prevote', 1, round, hash)

describe('VoteSet', () => {
  it('counts a validator once per block: an identical copy is a duplicate', () => {
    const set = new VoteSet()
    expect(set.add(vote(3, A))).toEqual({ status: 'added' })
    expect(set.add(vote(3, A))).toEqual({ status: 'duplicate' })
    expect(set.add({ ...vote(3, A), blockHash: Uint8Array.from(A) })).toEqual({ status: 'duplicate' })
    expect(set.count(A)).toBe(1)
    expect(set.total).toBe(1)
    expect(set.add(vote(4, null))).toEqual({ status: 'added' })
    expect(set.add(vote(4, null))).toEqual({ status: 'duplicate' })
    expect(set.count(null)).toBe(1)
    expect(set.total).toBe(2)
  })

  it('reports equivocation for an unknown block with the first vote, and does not count it until the block is admitted', () => {
    const set = new VoteSet()
    const first = vote(2, A)
    set.add(first)
    const unknown = () => false
    expect(set.add(vote(2, B), unknown)).toEqual({ status: 'equivocation', first, counted: false })
    expect(set.count(A)).toBe(1)
    expect(set.count(B)).toBe(0)
    expect(set.votesFor(B)).toEqual([])
    expect(set.total).toBe(1)
    expect(set.get(2)).toBe(first)
    set.admit(blockKey(sha256(Uint8Array.of(0xc)))) // another block: nothing changes
    expect(set.count(B)).toBe(0)
    set.admit(blockKey(B))
    expect(set.count(B)).toBe(1)
    expect(set.count(A)).toBe(1)
    set.admit(blockKey(B)) // admitted once only
    expect(set.count(B)).toBe(1)
  })

  it('keeps one waiting vote per validator for unknown blocks, so junk cannot pile up', () => {
    const set = new VoteSet()
    set.add(vote(1, A))
    const junk = Array.from({ length: 50 }, (_, i) => sha256(Uint8Array.of(0xd, i)))
    for (const h of junk) expect(set.add(vote(1, h), () => false).status).toBe('equivocation')
    for (const h of junk.slice(0, -1)) set.admit(blockKey(h))
    expect(junk.slice(0, -1).map(h => set.count(h))).toEqual(junk.slice(0, -1).map(() => 0))
    set.admit(blockKey(junk[junk.length - 1] as Uint8Array))
    expect(set.count(junk[junk.length - 1] as Uint8Array)).toBe(1)
  })

  it('counts an equivocation for a known block (or nil) for that block too, reporting the first vote', () => {
    const set = new VoteSet()
    const first = vote(2, A)
    set.add(first)
    expect(set.add(vote(2, B), key => key === blockKey(B))).toEqual({ status: 'equivocation', first, counted: true })
    expect([set.count(A), set.count(B), set.total]).toEqual([1, 1, 1])
    // nil is always known
    expect(set.add(vote(2, null), () => false)).toEqual({ status: 'equivocation', first, counted: true })
    expect(set.count(null)).toBe(1)
    // and a copy of a counted equivocation is a duplicate
    expect(set.add(vote(2, B))).toEqual({ status: 'duplicate' })
    expect(set.get(2)).toBe(first)
  })

  it('treats block versus nil, both ways, as equivocation', () => {
    const set = new VoteSet()
    set.add(vote(0, null))
    set.add(vote(1, A))
    expect(set.add(vote(0, A), () => false)).toMatchObject({ status: 'equivocation', counted: false })
    expect(set.add(vote(1, null), () => false)).toMatchObject({ status: 'equivocation', counted: true })
  })

  for (const n of [1, 4, 7, 10]) {
    const f = (n - 1) / 3
    it(`with n = ${n}: a quorum of 2f+1 = ${2 * f + 1} makes a majority, 2f does not`, () => {
      const quorum = makeNetwork(n).validators.quorum
      expect(quorum).toBe(2 * f + 1)
      const set = new VoteSet()
      for (let v = 0; v < 2 * f; v++) set.add(vote(v, A))
      expect(set.majority(quorum)).toBeUndefined()
      // votes for another block and for nil do not help A
      if (2 * f + 1 < n) set.add(vote(n - 1, B))
      expect(set.majority(quorum)).toBeUndefined()
      set.add(vote(2 * f, A))
      expect(set.majority(quorum)).toEqual({ hash: A })
      expect(set.count(A)).toBe(quorum)
    })
  }

  it('finds a nil majority as { hash: null }', () => {
    const set = new VoteSet()
    for (const v of [0, 1, 2, 3]) set.add(vote(v, null))
    expect(set.majority(5)).toBeUndefined()
    set.add(vote(9, null))
    expect(set.majority(5)).toEqual({ hash: null })
  })

  it('finds no majority in a split even when the total reaches quorum', () => {
    const set = new VoteSet()
    for (const v of [0, 1, 2]) set.add(vote(v, A))
    for (const v of [3, 4]) set.add(vote(v, B))
    for (const v of [5, 6]) set.add(vote(v, null))
    expect(set.total).toBe(7)
    expect(set.majority(5)).toBeUndefined()
    expect(set.majority(4)).toBeUndefined()
    expect(set.majority(3)).toEqual({ hash: A })
  })

  it('does not count equivocations for an unknown block toward a majority', () => {
    const set = new VoteSet()
    for (const v of [0, 1, 2, 3]) set.add(vote(v, B))
    for (const v of [0, 1, 2, 3]) set.add(vote(v, A), () => false) // all equivocations
    set.add(vote(4, A))
    expect(set.count(A)).toBe(1)
    expect(set.majority(5)).toBeUndefined()
  })

  it('lists every counted vote once in all()', () => {
    const set = new VoteSet()
    set.add(vote(0, A))
    set.add(vote(0, A))
    set.add(vote(1, B))
    set.add(vote(1, A)) // counted equivocation
    set.add(vote(2, B))
    set.add(vote(2, A), () => false) // waiting, not counted
    expect(set.all().map(v => `${v.validator}:${blockKey(v.blockHash).slice(0, 4)}`).sort())
      .toEqual([`0:${blockKey(A).slice(0, 4)}`, `1:${blockKey(A).slice(0, 4)}`, `1:${blockKey(B).slice(0, 4)}`, `2:${blockKey(B).slice(0, 4)}`].sort())
  })

  it('returns votesFor sorted by validator, only for that block', () => {
    const set = new VoteSet()
    for (const v of [5, 2, 9, 6, 0]) set.add(vote(v, A))
    for (const v of [4, 1]) set.add(vote(v, B))
    set.add(vote(3, null))
    expect(set.votesFor(A).map(v => v.validator)).toEqual([0, 2, 5, 6, 9])
    expect(set.votesFor(B).map(v => v.validator)).toEqual([1, 4])
    expect(set.votesFor(null).map(v => v.validator)).toEqual([3])
    expect(set.votesFor(sha256(Uint8Array.of(0xc)))).toEqual([])
    expect(set.validators().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 9])
  })

  it('keys blocks by content, not by array identity', () => {
    expect(blockKey(A)).toBe(blockKey(Uint8Array.from(A)))
    expect(blockKey(null)).not.toBe(blockKey(A))
    expect(blockKey(A)).not.toBe(blockKey(B))
  })
})

describe('HeightVoteSet', () => {
  it('keeps rounds and vote types apart', () => {
    const h = new HeightVoteSet()
    expect(h.isEmpty()).toBe(true)
    expect(h.peek(0, 'prevote')).toBeUndefined()
    h.get(2, 'prevote').add(vote(0, A, 2))
    h.get(0, 'precommit').add(signVote(net, 0, 'precommit', 1, 0, B))
    expect(h.isEmpty()).toBe(false)
    expect(h.get(2, 'prevote').count(A)).toBe(1)
    expect(h.get(2, 'precommit').total).toBe(0)
    expect(h.get(0, 'prevote').total).toBe(0)
    expect(h.get(0, 'precommit').count(B)).toBe(1)
    expect(h.peek(2, 'prevote')).toBe(h.get(2, 'prevote'))
    expect(h.roundsSeen()).toEqual([0, 2])
  })

  it('is empty while its rounds hold no votes', () => {
    const h = new HeightVoteSet()
    h.get(10, 'prevote')
    h.get(1, 'precommit')
    expect(h.isEmpty()).toBe(true)
    expect(h.roundsSeen()).toEqual([1, 10])
  })
})
