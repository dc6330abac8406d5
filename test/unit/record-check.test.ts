/**
 * The quick record check may only say yes where the schema says yes to the value unchanged; it
 * should say yes to ordinary records (or it saves nothing). Decoding a submission must refuse
 * exactly what it refused before, with the schema's own message.
 */
import { describe, expect, it } from 'vitest'
import { decode, encode, validate } from '../../consensus/codec.js'
import { TrustnetError } from '../../consensus/errors.js'
import { MAX_BATCH, SubmitRequestSchema } from '../../protocol/node-api.js'
import { isLedgerRecord, isRecordList } from '../../consensus/record-check.js'
import { LedgerRecordSchema, type LedgerRecord } from '../../consensus/types.js'
import { Rng } from '../../lib/rng.js'

const TEXTS = ['', 'a', 'owner-1', 'naïve café', '日本語', 'x'.repeat(21), 'x'.repeat(22), 'x'.repeat(42), 'x'.repeat(43), 'x'.repeat(86), 'x'.repeat(300), 'tab\there', 'bell\u0007', 'del\u007f', 'nul\u0000', '😀'.repeat(10)]
const NUMBERS = [0, 1, 2 ** 31, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, -1, 1.5, NaN, Infinity]

function record (rng: Rng): LedgerRecord {
  const meta: Record<string, unknown> = {}
  if (rng.chance(0.5)) meta.name = rng.pick(TEXTS)
  if (rng.chance(0.5)) meta.size = rng.pick(NUMBERS.slice(0, 4))
  if (rng.chance(0.5)) meta.contentType = rng.pick(TEXTS.slice(0, 8))
  if (rng.chance(0.7)) meta.owner = rng.pick(TEXTS.slice(1, 8))
  if (rng.chance(0.7)) meta.clientTime = rng.pick(NUMBERS.slice(0, 4))
  return { v: 1, dataHash: Uint8Array.from({ length: 32 }, () => rng.int(0, 255)), meta, service: rng.pick(TEXTS.slice(1, 7)) } as LedgerRecord
}

/** One random change, often one the schema refuses. */
function mutate (rng: Rng, r: Record<string, unknown>): unknown {
  const meta = r.meta as Record<string, unknown>
  switch (rng.int(0, 11)) {
    case 0: return { ...r, v: rng.pick([0, 2, '1', 1.0]) }
    case 1: return { ...r, dataHash: Uint8Array.from({ length: rng.pick([0, 31, 33]) }) }
    case 2: return { ...r, dataHash: [...(r.dataHash as Uint8Array)] }
    case 3: return { ...r, extra: 1 }
    case 4: { const { service: _s, ...rest } = r; return rest }
    case 5: return { ...r, service: rng.pick(TEXTS) }
    case 6: return { ...r, meta: { ...meta, [rng.pick(['name', 'contentType', 'owner'])]: rng.pick([...TEXTS, 5, null]) } }
    case 7: return { ...r, meta: { ...meta, [rng.pick(['size', 'clientTime'])]: rng.pick([...NUMBERS, '1', null]) } }
    case 8: return { ...r, meta: { ...meta, other: 'x' } }
    case 9: return { ...r, meta: rng.pick([null, [], 'meta']) }
    case 10: return Object.assign(Object.create({ inherited: true }) as object, r)
    default: return rng.pick([null, [], 'record', 7])
  }
}

describe('quick record check', () => {
  it('says yes only to records the schema accepts unchanged, and to most ordinary ones', () => {
    const rng = new Rng(23)
    let yes = 0
    let schemaYes = 0
    for (let i = 0; i < 5000; i++) {
      const base = record(rng)
      const value = rng.chance(0.5) ? base : mutate(rng, base as unknown as Record<string, unknown>)
      const parsed = LedgerRecordSchema.safeParse(value)
      if (parsed.success) schemaYes++
      if (!isLedgerRecord(value)) continue
      yes++
      expect(parsed.success).toBe(true)
      expect(parsed.data).toEqual(value)
    }
    expect(yes).toBeGreaterThan(0.9 * schemaYes)
  })

  it('checks lists of records with their bounds, only under the key records', () => {
    const rng = new Rng(29)
    const records = Array.from({ length: 3 }, () => record(rng)).filter(r => isLedgerRecord(r))
    expect(isRecordList({ records }, 1, MAX_BATCH)).toBe(records.length > 0)
    expect(isRecordList({ records: [] }, 1, MAX_BATCH)).toBe(false)
    expect(isRecordList({ records: records.concat(records) }, 1, 1)).toBe(false)
    expect(isRecordList({ records, more: 1 }, 1, MAX_BATCH)).toBe(false)
    expect(isRecordList({ records: [...records, { ...records[0], v: 2 }] }, 1, MAX_BATCH)).toBe(false)
    expect(isRecordList([records], 1, MAX_BATCH)).toBe(false)
  })

  it('lets a checked submission through as the decoded value itself, and refuses a bad one with the schema\'s message', () => {
    const rng = new Rng(31)
    const records = [record(rng), record(rng)].map(r => ({ ...r, meta: { owner: 'alice' }, service: 'svc' }))
    const value = { records }
    expect(validate(SubmitRequestSchema, value)).toBe(value)
    const bad = encode({ records: [records[0], { ...records[1], meta: { owner: 'a\u0001b' } }] })
    let refusal: unknown
    try { decode(SubmitRequestSchema, bad) } catch (err) { refusal = err }
    expect(refusal).toBeInstanceOf(TrustnetError)
    expect((refusal as TrustnetError).code).toBe('INVALID_FIELD')
    expect((refusal as TrustnetError).message).toBe('records.1.meta.owner: must not contain control characters')
  })
})
