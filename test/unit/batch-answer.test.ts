import { describe, expect, it } from 'vitest'
import { buildCertificate } from '../../consensus/certificate.js'
import { recordId, toHex } from '../../consensus/ids.js'
import { toJson, type Json } from '../../consensus/json.js'
import type { Certificate } from '../../consensus/types.js'
import { batchAnswer, type BatchAnswerItem } from '../../service/batch-answer.js'
import { makeCommittedBlock, makeNetwork, makeRecord } from '../helpers/fixtures.js'

/** The answer as the generic route builds it: each item's JSON form, stringified whole. */
function expected (items: readonly BatchAnswerItem[]): Buffer {
  const json = items.map((item): Json => item.certificate == null
    ? { id: toHex(item.id), status: 'pending' }
    : { id: toHex(item.id), certificate: toJson(item.certificate) })
  return Buffer.from(JSON.stringify({ items: json }))
}

describe('a batch answer', () => {
  const net = makeNetwork(4)
  const metas = [
    undefined,
    { name: 'file "quoted" \\ back – Zürich 東京 😀', owner: 'o\u2028wner', clientTime: 1 },
    { contentType: 'x'.repeat(200), size: 0 },
    {},
    { name: 'é'.repeat(300), owner: '😀'.repeat(100) }
  ]
  const records = Array.from({ length: 37 }, (_, i) => makeRecord(i, { meta: metas[i % metas.length] }))
  const { block, commit } = makeCommittedBlock(net, records)
  const certs: Certificate[] = records.map((_, i) => buildCertificate(block, commit, i))

  it('is byte for byte the JSON text of its items, certified and pending, with any text in the records', () => {
    const items: BatchAnswerItem[] = records.map((record, i) => ({ id: recordId(record), certificate: i % 3 === 2 ? null : certs[i] }))
    expect(batchAnswer(items).equals(expected(items))).toBe(true)
    const pending: BatchAnswerItem[] = records.map(record => ({ id: recordId(record) }))
    expect(batchAnswer(pending).equals(expected(pending))).toBe(true)
    expect(batchAnswer([]).toString()).toBe('{"items":[]}')
  })

  it('grows past its first guess of the size, and parses back to the same certificates', () => {
    // 1,000 copies of the largest certificate (non-ASCII metadata at 3-4 bytes a character).
    const big = certs[4] as Certificate
    const items: BatchAnswerItem[] = Array.from({ length: 1000 }, () => ({ id: recordId(big.record), certificate: big }))
    const bytes = batchAnswer(items)
    expect(bytes.length).toBeGreaterThan(1000 * 2048)
    expect(bytes.equals(expected(items))).toBe(true)
    const parsed = JSON.parse(bytes.toString('utf8')) as { items: Array<{ certificate: unknown }> }
    expect(parsed.items[999]?.certificate).toEqual(toJson(big))
  })
})
