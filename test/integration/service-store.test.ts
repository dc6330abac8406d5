/**
 * The service store keeps each block's first seal: a certificate once handed out is served
 * unchanged, even when a later answer for the same block carries another quorum's signatures.
 * Proofs are rebuilt from each block's stored record ids, checked against the block's root;
 * placements that hold their proof (as earlier stores wrote them) are still served.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Level } from 'level'
import { CertificateVerifier, certificateOf, verifyCertificate } from '../../consensus/certificate.js'
import { encode } from '../../consensus/codec.js'
import { fromHex, recordId, toHex } from '../../consensus/ids.js'
import type { Block, Commit, InclusionProof } from '../../consensus/types.js'
import { ServiceStore, type Certification, type Item } from '../../service/store.js'
import { genesisTip, makeCommittedBlock, makeNetwork, makeRecords, signCommit, tipOf, type TestNetwork } from '../helpers/fixtures.js'

/** What the outbox hands the store for `items`, the records of `block` in order from `first`. */
function certifications (net: TestNetwork, block: Block, commit: Commit, items: Item[], first = 0): Certification[] {
  const blockIds = block.records.map(recordId)
  const proofs = new CertificateVerifier(net.genesis).blockProofs(block.header, commit, blockIds)
  return items.map((item, i) => ({ item, seal: { header: block.header, commit }, proof: proofs[first + i] as InclusionProof, blockIds }))
}

/** The store's keys, as an intruder (or an earlier version) would write them. */
const placementKey = (id: Uint8Array): Uint8Array => Uint8Array.of(0x05, ...id)
const blockIdsKey = (height: number): Uint8Array => { const k = new Uint8Array(9); k[0] = 0x06; new DataView(k.buffer).setBigUint64(1, BigInt(height)); return k }

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

  it('stores each record once, before and after a restart, whether or not its filter of stored ids is complete', async () => {
    const records = makeRecords(30)
    const put = async (from: number, to: number): Promise<boolean[]> =>
      (await store.putItems(records.slice(from, to).map(record => ({ input: { client: 'c', record, createdAt: 1 } })))).map(r => r.created)
    expect(await store.filterReady()).toBe(true)
    expect(await put(0, 10)).toEqual(Array(10).fill(true))
    expect(await put(5, 15)).toEqual([...Array(5).fill(false), ...Array(5).fill(true)])
    for (const waitForFilter of [false, true]) {
      await store.close()
      store = new ServiceStore(join(dir, 'db'))
      await store.open()
      if (waitForFilter) expect(await store.filterReady()).toBe(true)
      const from = waitForFilter ? 20 : 15
      expect(await put(0, from + 5)).toEqual([...Array(from).fill(false), ...Array(5).fill(true)])
    }
    // The items read back are the ones first stored.
    expect((await store.getItem(recordId(records[3]!)))?.record).toEqual(records[3])
  })

  it('serves every certificate of a block with the seal stored first, across rounds and restarts', async () => {
    const net = makeNetwork(4)
    const records = makeRecords(6)
    const { block, commit } = makeCommittedBlock(net, records, { signers: [0, 1, 2] })
    const otherQuorum = signCommit(net, block.header, [1, 2, 3])
    const stored = await store.putItems(records.map(record => ({ input: { client: 'c', record, createdAt: 1 } })))
    const items = stored.map(s => s.item)

    const first = await store.certifyMany(certifications(net, block, commit, items.slice(0, 3)))
    const second = await store.certifyMany(certifications(net, block, otherQuorum, items.slice(3), 3))
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
    await store.certifyMany(certifications(net, a.block, a.commit, [stored[0]!.item]))
    await expect(store.certifyMany(certifications(net, b.block, b.commit, [stored[2]!.item]))).rejects.toThrow(/two different headers/)
    expect((await store.getItem(stored[2]!.item.id))?.status).toBe('pending')
  })

  it('serves each certificate as handed out, its proof rebuilt from the block ids, over more blocks than it keeps built', async () => {
    const net = makeNetwork(4)
    const handedOut = new Map<string, unknown>()
    let tip = genesisTip(net)
    // Twelve blocks of 1 to 12 records (odd sizes leave unpaired nodes in the tree).
    for (let b = 0; b < 12; b++) {
      const { block, commit } = makeCommittedBlock(net, makeRecords(b + 1, b * 100), { tip })
      tip = tipOf(block)
      const stored = await store.putItems(block.records.map(record => ({ input: { client: 'c', record, createdAt: b } })))
      const certs = certifications(net, block, commit, stored.map(s => s.item))
      await store.certifyMany(certs)
      for (const c of certs) handedOut.set(toHex(c.item.id), certificateOf(c.item.record, c.seal, c.proof))
    }
    for (const reopen of [false, true]) {
      if (reopen) {
        await store.close()
        store = new ServiceStore(join(dir, 'db'))
        await store.open()
      }
      for (const [key, cert] of handedOut) {
        const read = await store.getItem(fromHex(key))
        expect(read?.certificate).toEqual(cert)
        expect(verifyCertificate(net.genesis, read?.certificate)).toEqual({ valid: true })
      }
    }
  })

  it('reads a placement holding its proof, and stores the block ids the first time a block seen before gets them', async () => {
    const net = makeNetwork(4)
    const { block, commit } = makeCommittedBlock(net, makeRecords(5))
    const stored = await store.putItems(block.records.map(record => ({ input: { client: 'c', record, createdAt: 1 } })))
    const items = stored.map(s => s.item)
    const certs = certifications(net, block, commit, items.slice(0, 2))
    await store.certifyMany(certs)
    await store.close()
    // As a store written before block ids were kept: the first item's placement holds its proof, no ids are stored.
    const raw = new Level<Uint8Array, Uint8Array>(join(dir, 'db'), { keyEncoding: 'view', valueEncoding: 'view' })
    await raw.put(placementKey(items[0]!.id), encode({ height: block.header.height, proof: certs[0]!.proof }))
    await raw.del(blockIdsKey(block.header.height))
    await raw.close()
    store = new ServiceStore(join(dir, 'db'))
    await store.open()

    expect((await store.getItem(items[0]!.id))?.certificate).toEqual(certificateOf(items[0]!.record, certs[0]!.seal, certs[0]!.proof))
    await expect(store.getItem(items[1]!.id)).rejects.toThrow(/missing the record ids of block 1/)
    // The next certification in that block brings the ids along.
    await store.certifyMany(certifications(net, block, commit, items.slice(2), 2))
    for (const item of items) expect(verifyCertificate(net.genesis, (await store.getItem(item.id))?.certificate)).toEqual({ valid: true })
  })

  it('refuses to serve a proof from stored ids that do not build the block root', async () => {
    const net = makeNetwork(4)
    const { block, commit } = makeCommittedBlock(net, makeRecords(3))
    const stored = await store.putItems(block.records.map(record => ({ input: { client: 'c', record, createdAt: 1 } })))
    await store.certifyMany(certifications(net, block, commit, stored.map(s => s.item)))
    await store.close()
    const raw = new Level<Uint8Array, Uint8Array>(join(dir, 'db'), { keyEncoding: 'view', valueEncoding: 'view' })
    const ids = await raw.get(blockIdsKey(block.header.height))
    ids![5] = ids![5]! ^ 1
    await raw.put(blockIdsKey(block.header.height), ids!)
    await raw.close()
    store = new ServiceStore(join(dir, 'db'))
    await store.open()
    await expect(store.getItem(stored[0]!.item.id)).rejects.toThrow(/do not build its records root/)
  })
})
