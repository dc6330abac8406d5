import { describe, expect, it } from 'vitest'
import { recordId, toHex } from '../../consensus/ids.js'
import { Mempool } from '../../consensus/mempool.js'
import type { LedgerRecord } from '../../consensus/types.js'
import { makeRecord, makeRecords, refusal } from '../helpers/fixtures.js'

const idsOf = (pool: Mempool, max = Infinity) => pool.take(max).map(p => toHex(p.id))
const hexIds = (records: LedgerRecord[]) => records.map(r => toHex(recordId(r)))

describe('Mempool', () => {
  it('de-duplicates by record id, within a batch and against the pool, and returns only the new records', () => {
    const pool = new Mempool(100)
    const [a, b, c] = makeRecords(3) as [LedgerRecord, LedgerRecord, LedgerRecord]
    expect(pool.addAll([a, b, a, structuredClone(b)])).toEqual([a, b])
    expect(pool.size).toBe(2)
    expect(pool.addAll([b, c, a])).toEqual([c])
    expect(pool.addAll([a, b, c])).toEqual([])
    expect(pool.size).toBe(3)
    expect(pool.has(recordId(c))).toBe(true)
    expect(pool.has(recordId(makeRecord(3)))).toBe(false)
    // a record with any field changed is another record
    expect(pool.addAll([{ ...a, meta: { ...a.meta, size: 0 } }, { ...a, service: 'other' }])).toHaveLength(2)
  })

  it('refuses a batch that does not fit whole with MEMPOOL_FULL, leaving the pool unchanged', () => {
    const pool = new Mempool(5)
    pool.addAll(makeRecords(3))
    const before = { size: pool.size, ids: pool.ids(), taken: idsOf(pool) }
    expect(refusal(() => pool.addAll(makeRecords(3, 10)))).toEqual({ name: 'RejectedInputError', code: 'MEMPOOL_FULL' })
    expect({ size: pool.size, ids: pool.ids(), taken: idsOf(pool) }).toEqual(before)
    for (const r of makeRecords(3, 10)) expect(pool.has(recordId(r))).toBe(false)
  })

  it('counts only new records against the capacity', () => {
    const pool = new Mempool(5)
    pool.addAll(makeRecords(3))
    // three old ones and two new ones fit exactly
    expect(pool.addAll(makeRecords(5))).toHaveLength(2)
    expect(pool.size).toBe(5)
    expect(pool.addAll(makeRecords(5))).toEqual([])
    expect(refusal(() => pool.addAll([makeRecord(99)]))).toMatchObject({ code: 'MEMPOOL_FULL' })
  })

  it('addWhatFits keeps what fits in arrival order and drops the rest silently', () => {
    const pool = new Mempool(4)
    pool.addAll(makeRecords(2))
    pool.addWhatFits([...makeRecords(2), ...makeRecords(5, 10)])
    expect(pool.size).toBe(4)
    expect(idsOf(pool)).toEqual(hexIds([...makeRecords(2), ...makeRecords(2, 10)]))
    pool.addWhatFits(makeRecords(3, 20))
    expect(pool.size).toBe(4)
  })

  it('takes up to max records in arrival order without removing them', () => {
    const pool = new Mempool(100)
    const records = [makeRecord(7), makeRecord(3), makeRecord(9), makeRecord(1)]
    pool.addAll(records.slice(0, 2))
    pool.addAll(records.slice(2))
    expect(pool.take(10).map(p => p.record)).toEqual(records)
    expect(pool.take(2).map(p => p.record)).toEqual(records.slice(0, 2))
    expect(pool.take(0)).toEqual([])
    expect(pool.size).toBe(4)
    for (const p of pool.take(4)) expect(p.id).toEqual(recordId(p.record))
  })

  it('removeCommitted removes the given ids, ignores unknown ones, and keeps the order of the rest', () => {
    const pool = new Mempool(100)
    const records = makeRecords(6)
    pool.addAll(records)
    pool.removeCommitted([recordId(records[1] as LedgerRecord), recordId(records[4] as LedgerRecord), recordId(makeRecord(50))])
    expect(pool.size).toBe(4)
    expect(idsOf(pool)).toEqual(hexIds([records[0], records[2], records[3], records[5]] as LedgerRecord[]))
    pool.removeCommitted([])
    expect(pool.size).toBe(4)
  })

  it('frees room when records are removed', () => {
    const pool = new Mempool(2)
    const records = makeRecords(4)
    pool.addAll(records.slice(0, 2))
    expect(refusal(() => pool.addAll(records.slice(2)))).toMatchObject({ code: 'MEMPOOL_FULL' })
    pool.removeCommitted(records.slice(0, 2).map(recordId))
    expect(pool.addAll(records.slice(2))).toEqual(records.slice(2))
  })
})
