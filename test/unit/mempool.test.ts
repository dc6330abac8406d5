import { describe, expect, it } from 'vitest'
import { entriesOf } from '../../consensus/entries.js'
import { toHex } from '../../consensus/ids.js'
import { Mempool } from '../../consensus/mempool.js'
import type { Submission } from '../../consensus/types.js'
import { makeEntries, makeEntry, makeNetwork, makeSubmission, refusal } from '../helpers/fixtures.js'

const net = makeNetwork(4, { services: 2 })
/** A submission of entries first..first+count-1 by service `service`. */
const sub = (count: number, first: number, service = 0): Submission => makeSubmission(net, makeEntries(count, first), service)
const sigs = (submissions: readonly Submission[]) => submissions.map(s => toHex(s.signature))
const snapshot = (pool: Mempool) => ({ size: pool.size, ids: pool.ids(), taken: sigs(pool.take(Infinity)) })

describe('Mempool', () => {
  it('holds submissions whole, once each, counts entries, and returns only the new ones', () => {
    const pool = new Mempool(100)
    const a = sub(3, 0)
    const b = sub(2, 10)
    expect(pool.addAll([a, b, a, structuredClone(b)])).toEqual([a, b])
    expect(pool.size).toBe(5)
    expect(pool.submissions).toBe(2)
    expect(pool.addAll([b, a])).toEqual([])
    expect(pool.size).toBe(5)
    for (const e of [...entriesOf(a), ...entriesOf(b)]) expect(pool.holds(e)).toBe(true)
    expect(pool.holds(makeEntry(50))).toBe(false)
    // the same entries signed by another service are another submission
    expect(pool.addAll([sub(3, 0, 1)])).toHaveLength(1)
    expect(pool.size).toBe(8)
  })

  it('refuses a batch that does not fit whole with MEMPOOL_FULL, leaving the pool unchanged', () => {
    const pool = new Mempool(5)
    pool.addAll([sub(3, 0)])
    const before = snapshot(pool)
    expect(refusal(() => pool.addAll([sub(1, 10), sub(2, 20)]))).toEqual({ name: 'RejectedInputError', code: 'MEMPOOL_FULL' })
    expect(refusal(() => pool.addAll([sub(3, 30)]))).toEqual({ name: 'RejectedInputError', code: 'MEMPOOL_FULL' })
    expect(snapshot(pool)).toEqual(before)
    for (const e of makeEntries(3, 30)) expect(pool.holds(e)).toBe(false)
  })

  it('counts only new submissions against the capacity', () => {
    const pool = new Mempool(5)
    const a = sub(3, 0)
    pool.addAll([a])
    expect(pool.addAll([a, sub(2, 10)])).toHaveLength(1)
    expect(pool.size).toBe(5)
    expect(pool.addAll([a])).toEqual([])
    expect(refusal(() => pool.addAll([sub(1, 99)]))).toMatchObject({ code: 'MEMPOOL_FULL' })
  })

  it('addWhatFits keeps the submissions that fit, in arrival order, and drops the rest silently', () => {
    const pool = new Mempool(6)
    const a = sub(2, 0)
    pool.addAll([a])
    const [big, small, other] = [sub(5, 10), sub(3, 20), sub(2, 30)]
    expect(pool.addWhatFits([a, big, small, other])).toEqual([small])
    expect(pool.size).toBe(5)
    expect(pool.ids()).toEqual(sigs([a, small]))
    expect(pool.addWhatFits([sub(2, 40)])).toEqual([])
    expect(pool.size).toBe(5)
  })

  it('takes whole submissions in arrival order up to max entries, passing over one too big for the room left, without removing any', () => {
    const pool = new Mempool(100)
    const [a, b, c, d] = [sub(3, 0), sub(4, 10), sub(2, 20), sub(1, 30)]
    pool.addAll([a, b])
    pool.addAll([c, d])
    expect(pool.take(100)).toEqual([a, b, c, d])
    expect(pool.take(7)).toEqual([a, b])
    expect(pool.take(6)).toEqual([a, c, d])
    expect(pool.take(2)).toEqual([c])
    expect(pool.take(0)).toEqual([])
    expect(pool.size).toBe(10)
  })

  it('takes no submission that repeats an entry already taken for the block, nor one repeating an entry of its own', () => {
    const pool = new Mempool(100)
    const a = makeSubmission(net, makeEntries(3, 0))
    // b shares entry 2 with a; c shares nothing; d repeats entry 40 within itself
    const b = makeSubmission(net, [makeEntry(2), makeEntry(5)])
    const c = makeSubmission(net, [makeEntry(6), makeEntry(7)])
    const d = makeSubmission(net, [makeEntry(40), makeEntry(41), makeEntry(40)])
    const e = makeSubmission(net, [makeEntry(41)])
    pool.addAll([a, b, c, d, e])
    expect(pool.take(100)).toEqual([a, c, e])
    // without a in the way, b is taken
    expect(pool.take(2)).toEqual([b])
  })

  it('removeCommitted drops every submission holding a committed entry, ignores unknown ones, and keeps the order of the rest', () => {
    const pool = new Mempool(100)
    const [a, b, c] = [sub(3, 0), sub(3, 10), sub(2, 20)]
    // d overlaps b (entry 11) and also holds entries nobody committed
    const d = makeSubmission(net, [makeEntry(11), makeEntry(30)])
    pool.addAll([a, b, c, d])
    pool.removeCommitted([makeEntry(11), makeEntry(99)])
    expect(pool.ids()).toEqual(sigs([a, c]))
    expect(pool.size).toBe(5)
    // entries of dropped submissions are not held any more, those of the rest still are
    expect([makeEntry(10), makeEntry(30), makeEntry(0), makeEntry(20)].map(e => pool.holds(e))).toEqual([false, false, true, true])
    pool.removeCommitted([])
    expect(pool.size).toBe(5)
    pool.removeCommitted(makeEntries(1, 21))
    expect(pool.ids()).toEqual(sigs([a]))
  })

  it('frees room when submissions are dropped', () => {
    const pool = new Mempool(4)
    const [a, b] = [sub(3, 0), sub(3, 10)]
    pool.addAll([a])
    expect(refusal(() => pool.addAll([b]))).toMatchObject({ code: 'MEMPOOL_FULL' })
    pool.removeCommitted([makeEntry(1)])
    expect(pool.size).toBe(0)
    expect(pool.addAll([b])).toEqual([b])
  })
})
