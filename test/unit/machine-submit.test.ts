/**
 * Local submissions: raw records are checked against the schema before anything changes; records
 * the node's decoder already checked (`checked`) enter the mempool as the very objects given, so
 * the ids memoized for them on the way in are reused down the line.
 */
import { describe, expect, it } from 'vitest'
import { recordId } from '../../consensus/ids.js'
import { Machine } from '../../consensus/machine.js'
import type { LedgerRecord } from '../../consensus/types.js'
import { machineDigest } from '../helpers/machine-digest.js'
import { genesisTip, nothingCommitted, makeNetwork, makeRecords, refusal } from '../helpers/fixtures.js'

const net = makeNetwork(4)
const NOW = net.genesis.genesisTime + 10_000
const observer = () => new Machine({ genesis: net.genesis, isCommitted: nothingCommitted, tip: genesisTip(net) })

describe('submitting records to the machine', () => {
  it('refuses raw records that do not match the schema, changing nothing', () => {
    const m = observer()
    const before = machineDigest(m)
    const bad = [{ ...makeRecords(1)[0], extra: 1 }] as unknown as LedgerRecord[]
    expect(refusal(() => m.step({ type: 'submit', records: bad }, NOW))).toEqual({ name: 'InvalidInputError', code: 'INVALID_FIELD' })
    expect(refusal(() => m.step({ type: 'submit', records: [] }, NOW))).toEqual({ name: 'InvalidInputError', code: 'INVALID_FIELD' })
    expect(machineDigest(m)).toBe(before)
  })

  it('keeps checked records as given, and gossips the new ones', () => {
    const m = observer()
    const records = makeRecords(3)
    const actions = m.step({ type: 'submit', records, checked: true }, NOW)
    for (const r of records) expect(m.pendingRecord(recordId(r))).toBe(r)
    expect(actions).toContainEqual({ type: 'broadcast', message: { type: 'records', records } })
    expect(m.step({ type: 'submit', records, checked: true }, NOW).filter(a => a.type === 'broadcast')).toEqual([])
  })

  it('checks and copies raw records, with the same ids', () => {
    const m = observer()
    const records = makeRecords(2)
    m.step({ type: 'submit', records }, NOW)
    expect(m.mempoolSize).toBe(2)
    for (const r of records) expect(m.pendingRecord(recordId(r))).toEqual(r)
  })
})
