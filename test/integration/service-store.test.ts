/**
 * The service store keeps each block's first seal: a certificate once handed out is served
 * unchanged, even when a later answer for the same block carries another quorum's signatures.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CertificateVerifier, verifyCertificate } from '../../consensus/certificate.js'
import { recordId } from '../../consensus/ids.js'
import { ServiceStore } from '../../service/store.js'
import { makeCommittedBlock, makeNetwork, makeRecords, signCommit } from '../helpers/fixtures.js'

describe('service store', () => {
  let dir: string
  let store: ServiceStore
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trustnet-store-'))
    store = new ServiceStore(join(dir, 'db'))
    await store.open()
  })
  afterEach(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('serves every certificate of a block with the seal stored first, across rounds and restarts', async () => {
    const net = makeNetwork(4)
    const records = makeRecords(6)
    const { block, commit } = makeCommittedBlock(net, records, { signers: [0, 1, 2] })
    const otherQuorum = signCommit(net, block.header, [1, 2, 3])
    const proofs = new CertificateVerifier(net.genesis).blockProofs(block.header, commit, records.map(recordId))
    const stored = await store.putItems(records.map(record => ({ input: { client: 'c', record, createdAt: 1 } })))
    const items = stored.map(s => s.item)

    const first = await store.certifyMany(items.slice(0, 3).map((item, i) => ({ item, seal: { header: block.header, commit }, proof: proofs[i]! })))
    const second = await store.certifyMany(items.slice(3).map((item, i) => ({ item, seal: { header: block.header, commit: otherQuorum }, proof: proofs[i + 3]! })))
    for (const seal of [...first, ...second]) expect(seal.commit).toEqual(commit)

    await store.close()
    store = new ServiceStore(join(dir, 'db'))
    await store.open()
    for (const item of items) {
      const read = await store.getItem(item.id)
      expect(read?.status).toBe('certified')
      expect(read?.certificate?.commit).toEqual(commit)
      expect(verifyCertificate(net.genesis, read?.certificate)).toEqual({ valid: true })
    }
    expect(await store.pending(100)).toEqual([])
  })

  it('refuses a second, different header at a height it has sealed, changing nothing', async () => {
    const net = makeNetwork(4)
    const a = makeCommittedBlock(net, makeRecords(2))
    const b = makeCommittedBlock(net, makeRecords(2, 100))
    const stored = await store.putItems([...a.block.records, ...b.block.records].map(record => ({ input: { client: 'c', record, createdAt: 1 } })))
    const proofsA = new CertificateVerifier(net.genesis).blockProofs(a.block.header, a.commit, a.block.records.map(recordId))
    const proofsB = new CertificateVerifier(net.genesis).blockProofs(b.block.header, b.commit, b.block.records.map(recordId))
    await store.certifyMany([{ item: stored[0]!.item, seal: { header: a.block.header, commit: a.commit }, proof: proofsA[0]! }])
    await expect(store.certifyMany([{ item: stored[2]!.item, seal: { header: b.block.header, commit: b.commit }, proof: proofsB[0]! }])).rejects.toThrow(/two different headers/)
    expect((await store.getItem(stored[2]!.item.id))?.status).toBe('pending')
  })
})
