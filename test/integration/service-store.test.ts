/**
 * The service store draws a fresh salt for every item (its id is the item's entry) and keeps it
 * beside the data; it keeps each block's first seal, so a certificate once handed out is served
 * unchanged even when a later answer for the same block carries another quorum's signatures; and
 * it rebuilds proofs from each block's stored leaves, checked against the block's root.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Level } from 'level'
import { CertificateVerifier, certificateOf, verifyCertificate } from '../../consensus/certificate.js'
import { entryOf, leavesOf } from '../../consensus/entries.js'
import { fromHex, idKey, toHex } from '../../consensus/ids.js'
import type { Block, Commit, InclusionProof } from '../../consensus/types.js'
import { ServiceStore, type Certification, type Item } from '../../service/store.js'
import { genesisTip, makeCommittedBlock, makeNetwork, makeRecord, makeRecords, makeSubmission, signCommit, tipOf, type TestNetwork } from '../helpers/fixtures.js'

/** What the outbox hands the store for `items`, whose entries are leaves of `block`. */
function certifications (net: TestNetwork, block: Block, commit: Commit, items: Item[]): Certification[] {
  const leaves = leavesOf(block.submissions)
  const proofs = new CertificateVerifier(net.genesis).blockProofs(block.header, commit, leaves)
  const at = new Map(leaves.map((leaf, i) => [idKey(leaf.subarray(2)), i]))
  return items.map(item => ({ item, seal: { header: block.header, commit }, proof: proofs[at.get(idKey(item.id)) as number] as InclusionProof, leaves }))
}

/** A committed block holding the items' entries, in one submission of the test service. */
const blockOf = (net: TestNetwork, items: Item[], options: Parameters<typeof makeCommittedBlock>[2] = {}): ReturnType<typeof makeCommittedBlock> =>
  makeCommittedBlock(net, [makeSubmission(net, items.map(i => i.id))], options)

const blockLeavesKey = (height: number): Uint8Array => { const k = new Uint8Array(9); k[0] = 0x06; new DataView(k.buffer).setBigUint64(1, BigInt(height)); return k }
const isValid = (genesis: TestNetwork['genesis'], cert: unknown): boolean => verifyCertificate(genesis, cert).valid

describe('service store', () => {
  let dir: string
  let store: ServiceStore
  const reopen = async (): Promise<void> => {
    await store.close()
    store = new ServiceStore(join(dir, 'db'))
    await store.open()
  }
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trustnet-store-'))
    store = new ServiceStore(join(dir, 'db'))
    await store.open()
  })
  afterEach(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('draws a fresh 32-byte salt per item, keys the item by its entry, and keeps salt and data across a restart', async () => {
    const record = makeRecord(1)
    const data = new TextEncoder().encode('the bytes')
    const [a, b] = await store.putItems([{ input: { client: 'c', record, createdAt: 1 }, data }, { input: { client: 'c', record, createdAt: 1 } }])
    // The same record twice is two items, whose entries cannot be linked.
    expect(a!.salt).toHaveLength(32)
    expect(toHex(a!.salt)).not.toBe(toHex(b!.salt))
    expect(toHex(a!.id)).not.toBe(toHex(b!.id))
    for (const item of [a!, b!]) expect(toHex(item.id)).toBe(toHex(entryOf(record, item.salt)))
    await reopen()
    const read = await store.getItem(a!.id)
    expect(read).toMatchObject({ client: 'c', record, status: 'pending', certificate: null, hasData: true })
    expect(toHex(read!.salt)).toBe(toHex(a!.salt))
    expect(toHex((await store.getData(a!.id))!)).toBe(toHex(data))
    expect((await store.getItem(b!.id))?.hasData).toBe(false)
    expect((await store.pending(10)).map(i => toHex(i.id)).sort()).toEqual([toHex(a!.id), toHex(b!.id)].sort())
  })

  it('serves every certificate of a block with the seal stored first, across rounds and restarts', async () => {
    const net = makeNetwork(4)
    const items = await store.putItems(makeRecords(6).map(record => ({ input: { client: 'c', record, createdAt: 1 } })))
    const { block, commit } = blockOf(net, items, { signers: [0, 1, 2] })
    const otherQuorum = signCommit(net, block.header, [1, 2, 3])

    const first = await store.certifyMany(certifications(net, block, commit, items.slice(0, 3)))
    const second = await store.certifyMany(certifications(net, block, otherQuorum, items.slice(3)))
    for (const seal of [...first, ...second]) expect(seal.commit).toEqual(commit)

    await reopen()
    for (const item of items) {
      const read = await store.getItem(item.id)
      expect(read?.status).toBe('certified')
      expect(read?.certificate?.commit).toEqual(commit)
      expect(toHex(read!.certificate!.salt)).toBe(toHex(item.salt))
      expect(isValid(net.genesis, read?.certificate)).toBe(true)
    }
    expect(await store.pending(100)).toEqual([])
  })

  it('refuses a second, different header at a height it has sealed, changing nothing', async () => {
    const net = makeNetwork(4)
    const items = await store.putItems(makeRecords(4).map(record => ({ input: { client: 'c', record, createdAt: 1 } })))
    const a = blockOf(net, items.slice(0, 2))
    const b = blockOf(net, items.slice(2))
    await store.certifyMany(certifications(net, a.block, a.commit, [items[0]!]))
    await expect(store.certifyMany(certifications(net, b.block, b.commit, [items[2]!]))).rejects.toThrow(/two different headers/)
    expect((await store.getItem(items[2]!.id))?.status).toBe('pending')
  })

  it('serves each certificate as handed out, its proof rebuilt from the block leaves, over more blocks than it keeps built', async () => {
    const net = makeNetwork(4)
    const handedOut = new Map<string, unknown>()
    let tip = genesisTip(net)
    // Twelve blocks of 1 to 12 items (odd sizes leave unpaired nodes in the tree).
    for (let b = 0; b < 12; b++) {
      const items = await store.putItems(makeRecords(b + 1, b * 100).map(record => ({ input: { client: 'c', record, createdAt: b } })))
      const { block, commit } = blockOf(net, items, { tip })
      tip = tipOf(block)
      const certs = certifications(net, block, commit, items)
      await store.certifyMany(certs)
      for (const c of certs) handedOut.set(toHex(c.item.id), certificateOf(c.item.record, c.item.salt, c.seal, c.proof))
    }
    for (const again of [false, true]) {
      if (again) await reopen()
      for (const [key, cert] of handedOut) {
        const read = await store.getItem(fromHex(key))
        expect(read?.certificate).toEqual(cert)
        expect(isValid(net.genesis, read?.certificate)).toBe(true)
      }
    }
  })

  it('refuses to serve a proof from stored leaves that do not build the block root', async () => {
    const net = makeNetwork(4)
    const items = await store.putItems(makeRecords(3).map(record => ({ input: { client: 'c', record, createdAt: 1 } })))
    const { block, commit } = blockOf(net, items)
    await store.certifyMany(certifications(net, block, commit, items))
    await store.close()
    const raw = new Level<Uint8Array, Uint8Array>(join(dir, 'db'), { keyEncoding: 'view', valueEncoding: 'view' })
    const leaves = await raw.get(blockLeavesKey(block.header.height))
    leaves![5] = leaves![5]! ^ 1
    await raw.put(blockLeavesKey(block.header.height), leaves!)
    await raw.close()
    store = new ServiceStore(join(dir, 'db'))
    await store.open()
    await expect(store.getItem(items[0]!.id)).rejects.toThrow(/do not build its entries root/)
  })

  describe('client indexes', () => {
    /** `count` items of `client` stored one by one at times 10, 20, ...; the record of item k anchors data hash k % hashes. */
    const storeFor = async (client: string, count: number, hashes = count, first = 0): Promise<Item[]> => {
      const items: Item[] = []
      for (let k = 0; k < count; k++) {
        const record = makeRecord(first + (k % hashes))
        items.push(...await store.putItems([{ input: { client, record, createdAt: 10 * (first + k + 1) } }]))
      }
      return items
    }
    const ids = (list: Array<{ id: Uint8Array }>): string[] => list.map(i => toHex(i.id))

    it('lists a client\'s items newest first, page by page, and no other client\'s', async () => {
      const mine = await storeFor('alice', 7)
      await storeFor('alice-2', 3, 3, 100)
      await storeFor('bob', 2, 2, 200)
      const seen: Array<{ id: Uint8Array }> = []
      let page = await store.listItems('alice', 3)
      for (;;) {
        for (const item of page.items) expect(item.client).toBe('alice')
        seen.push(...page.items)
        if (page.next === null) break
        page = await store.listItems('alice', 3, page.next)
      }
      expect(ids(seen)).toEqual(ids(mine).reverse())
      expect((await store.listItems('carol', 10)).items).toEqual([])
      expect(ids((await store.listItems('bob', 10)).items)).toHaveLength(2)
    })

    it('keeps items stored in the same millisecond apart in the listing order', async () => {
      const batch = await store.putItems(makeRecords(5).map(record => ({ input: { client: 'alice', record, createdAt: 42 } })))
      const first = await store.listItems('alice', 2)
      const rest = await store.listItems('alice', 10, first.next!)
      expect(new Set([...ids(first.items), ...ids(rest.items)])).toEqual(new Set(ids(batch)))
      expect(rest.next).toBeNull()
    })

    it('finds a client\'s items by data hash, paged, and shows where each certified one sits', async () => {
      const net = makeNetwork(4)
      // Six items anchoring two hashes, alternately; bob anchors the same hashes.
      const mine = await storeFor('alice', 6, 2)
      await storeFor('bob', 2, 2)
      const { block, commit } = blockOf(net, mine.slice(0, 1))
      await store.certifyMany(certifications(net, block, commit, mine.slice(0, 1)))
      const hash0 = makeRecord(0).dataHash
      const page1 = await store.itemsByDataHash('alice', hash0, 2)
      expect(page1.items).toHaveLength(2)
      const page2 = await store.itemsByDataHash('alice', hash0, 2, page1.next!)
      expect(page2.next).toBeNull()
      const found = [...page1.items, ...page2.items]
      expect(new Set(ids(found))).toEqual(new Set(ids([mine[0]!, mine[2]!, mine[4]!])))
      for (const item of found) expect(toHex(item.record.dataHash)).toBe(toHex(hash0))
      const certified = found.find(i => toHex(i.id) === toHex(mine[0]!.id))
      expect(certified).toMatchObject({ status: 'certified', placement: { height: block.header.height, index: 0 } })
      expect(found.filter(i => i.status === 'pending')).toHaveLength(2)
      expect((await store.itemsByDataHash('alice', makeRecord(9).dataHash, 10)).items).toEqual([])
    })

    it('indexes, once, the items of a store from before the indexes', async () => {
      const mine = await storeFor('alice', 3)
      await store.close()
      // Take the store back to before the indexes: no index keys (0x07, 0x08), no version key (0x09).
      const raw = new Level<Uint8Array, Uint8Array>(join(dir, 'db'), { keyEncoding: 'view', valueEncoding: 'view' })
      await raw.clear({ gte: Uint8Array.of(0x07), lt: Uint8Array.of(0x0a) })
      await raw.close()
      store = new ServiceStore(join(dir, 'db'))
      await store.open()
      expect(ids((await store.listItems('alice', 10)).items)).toEqual(ids(mine).reverse())
      expect(ids((await store.itemsByDataHash('alice', makeRecord(1).dataHash, 10)).items)).toEqual([toHex(mine[1]!.id)])
    })
  })
})
