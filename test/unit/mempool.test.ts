import { describe, expect, it } from 'vitest'
import { entriesOf } from '../../consensus/entries.js'
import { toHex } from '../../consensus/ids.js'
import { Machine } from '../../consensus/machine.js'
import { Mempool, serviceShare } from '../../consensus/mempool.js'
import { DEFAULT_PARAMS, type Submission } from '../../consensus/types.js'
import { machineDigest } from '../helpers/machine-digest.js'
import { genesisTip, makeEntries, makeEntry, makeNetwork, makeSubmission, nothingCommitted, refusal } from '../helpers/fixtures.js'

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

  it('bounds each service to its share with SERVICE_QUOTA, changing nothing, while another service is still taken', () => {
    const pool = new Mempool(10, 4)
    pool.addAll([sub(3, 0, 0)])
    const before = snapshot(pool)
    // service 0 holds 3 of its 4: two more do not fit, whether in one submission or spread over a batch
    expect(refusal(() => pool.addAll([sub(2, 10, 0)]))).toEqual({ name: 'RejectedInputError', code: 'SERVICE_QUOTA' })
    expect(refusal(() => pool.addAll([sub(1, 20, 1), sub(1, 30, 0), sub(1, 40, 0)]))).toEqual({ name: 'RejectedInputError', code: 'SERVICE_QUOTA' })
    expect(snapshot(pool)).toEqual(before)
    expect(pool.holds(makeEntry(20))).toBe(false)
    // the other service fills its own share
    expect(pool.addAll([sub(4, 50, 1)])).toHaveLength(1)
    expect([pool.heldBy(0), pool.heldBy(1), pool.size]).toEqual([3, 4, 7])
    // the total bound still holds and is reported first
    const small = new Mempool(5, 4)
    small.addAll([sub(4, 0, 0)])
    expect(refusal(() => small.addAll([sub(2, 10, 1)]))).toMatchObject({ code: 'MEMPOOL_FULL' })
  })

  it('frees a service\'s share as its submissions commit, and keeps gossip within the share too', () => {
    const pool = new Mempool(10, 4)
    const a = sub(4, 0, 0)
    pool.addAll([a])
    expect(refusal(() => pool.addAll([sub(1, 10, 0)]))).toMatchObject({ code: 'SERVICE_QUOTA' })
    // gossip drops what is over the share silently, and keeps what fits
    const [over, other] = [sub(1, 20, 0), sub(2, 30, 1)]
    expect(pool.addWhatFits([over, other])).toEqual([other])
    pool.removeCommitted([makeEntry(0)])
    expect(pool.heldBy(0)).toBe(0)
    expect(pool.addAll([sub(4, 40, 0)])).toHaveLength(1)
  })

  it('splits the total bound between the registered services by default, at least a block each, unless the genesis sets the share', () => {
    const params = { ...DEFAULT_PARAMS, maxMempoolEntries: 100_000, maxBlockEntries: 10_000 }
    expect(serviceShare(params, 1)).toBe(100_000)
    expect(serviceShare(params, 4)).toBe(25_000)
    expect(serviceShare(params, 0)).toBe(100_000)
    expect(serviceShare(params, 1000)).toBe(10_000)
    expect(serviceShare({ ...params, maxServiceMempoolEntries: 7 }, 4)).toBe(7)
  })

  it('in the machine: one service filling its share cannot stop another\'s submissions from being accepted', () => {
    const two = makeNetwork(4, { services: 2, params: { maxMempoolEntries: 20, maxBlockEntries: 4 } })
    const m = new Machine({ genesis: two.genesis, isCommitted: nothingCommitted, tip: genesisTip(two) })
    const mine = (count: number, first: number, service: number): Submission => makeSubmission(two, makeEntries(count, first), service)
    // service 0 floods: its share is 20 / 2 = 10 entries
    for (let i = 0; i < 5; i++) m.step({ type: 'submit', submissions: [mine(2, 10 * i, 0)] }, two.genesis.genesisTime)
    expect(m.mempoolSize).toBe(10)
    const before = machineDigest(m)
    expect(refusal(() => m.step({ type: 'submit', submissions: [mine(1, 100, 0)] }, two.genesis.genesisTime))).toEqual({ name: 'RejectedInputError', code: 'SERVICE_QUOTA' })
    expect(machineDigest(m)).toBe(before)
    // service 1 is still taken, up to its own share
    for (let i = 0; i < 5; i++) m.step({ type: 'submit', submissions: [mine(2, 200 + 10 * i, 1)] }, two.genesis.genesisTime)
    expect(m.mempoolSize).toBe(20)
  })
})
