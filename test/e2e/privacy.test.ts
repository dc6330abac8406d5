/**
 * What the validators never learn: documents anchored through the service (a `contract.pdf`
 * uploaded with known bytes, and bare hashes anchored under names) leave neither their data
 * hashes (raw 32 bytes or hex) nor their names nor their bytes anywhere in a validator's home
 * directory (its LevelDB included) or log, once every validator has committed their entries and
 * stopped. As the control that the search finds what is there, the same search finds every one
 * of them in what the service and its client hold: the service's store (raw hashes, names,
 * bytes) and the answers the client kept (hex hashes).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyCertificate } from '../../consensus/certificate.js'
import { sha256 } from '../../consensus/hash.js'
import { toHex } from '../../consensus/ids.js'
import { certificateFromJson } from '../../consensus/json.js'
import { nodeHome } from '../../cli/init.js'
import { ProcessCluster } from '../../cli/process-cluster.js'
import { waitFor } from '../../lib/wait-for.js'

const utf8 = new TextEncoder()

/** Every file under `dir`, recursively. */
async function filesUnder (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter(e => e.isFile()).map(e => join(e.parentPath, e.name))
}

/** The labels of `needles` found in the raw bytes of any of `files`, with the file each was found in. */
async function search (files: readonly string[], needles: ReadonlyMap<string, Uint8Array>): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  for (const file of files) {
    const bytes = await readFile(file)
    for (const [label, needle] of needles) {
      if (!found.has(label) && bytes.includes(Buffer.from(needle.buffer, needle.byteOffset, needle.byteLength))) found.set(label, file)
    }
  }
  return found
}

describe('what the validators hold of anchored documents', () => {
  let cluster: ProcessCluster

  beforeAll(async () => {
    cluster = await ProcessCluster.create({ validators: 4 })
    await cluster.startNodes()
    await cluster.startService()
  }, 60_000)

  afterAll(async () => { await cluster?.destroy() })

  const api = async (path: string, init: RequestInit = {}): Promise<Response> =>
    await fetch(`${cluster.serviceUrl}${path}`, { ...init, headers: { authorization: `Bearer ${cluster.apiKey}`, ...init.headers } })

  it('leaves no data hash, name or byte of them in any validator\'s directory or log; the same search finds them all where the service and its client keep them', async () => {
    const contract = utf8.encode('CONTRACT 7f3a: the parties agree to the sale of the north field for 120,000 EUR.')
    const hashed = [
      { name: 'payroll-march-4f1c.xlsx', hash: sha256(utf8.encode('payroll, march, kept by the client')) },
      { name: 'merger-memo-9b2e.docx', hash: sha256(utf8.encode('merger memo, kept by the client')) }
    ]
    const ids: string[] = []
    /** The service's answers, as the client keeps them. */
    const answers: unknown[] = []

    const upload = await api('/v1/data?name=contract.pdf', { method: 'POST', body: contract, headers: { 'content-type': 'application/pdf' } })
    expect(upload.status).toBe(201)
    const uploaded = await upload.json() as { id: string, certificate: unknown }
    ids.push(uploaded.id)
    answers.push(uploaded)
    const cert = certificateFromJson(uploaded.certificate)
    expect(cert.record.meta).toMatchObject({ name: 'contract.pdf', contentType: 'application/pdf' })
    expect(verifyCertificate(cluster.genesis, cert)).toMatchObject({ valid: true, service: cluster.genesis.services[0]?.name })
    for (const h of hashed) {
      const res = await api('/v1/hashes', { method: 'POST', body: JSON.stringify({ hash: toHex(h.hash), metadata: { name: h.name } }), headers: { 'content-type': 'application/json' } })
      expect(res.status).toBe(201)
      const anchored = await res.json() as { id: string }
      ids.push(anchored.id)
      answers.push(anchored)
    }

    // Every validator has committed every entry (so its store and log hold whatever they ever will of them)...
    await waitFor('every validator to hold every entry', async () => {
      const statuses = await Promise.all(cluster.nodeUrls.flatMap(url => ids.map(async id => {
        const res = await fetch(`${url}/entries/${id}`)
        await res.arrayBuffer()
        return res.status
      })))
      return statuses.every(s => s === 200)
    }, 30_000, 50)
    // ...and has stopped, its writes flushed to its files.
    await Promise.all(cluster.nodes.map(async (_, i) => { await cluster.stopNode(i) }))
    await cluster.stopService()

    const contractHash = sha256(contract)
    const needles = new Map<string, Uint8Array>([
      ['contract.pdf data hash (raw)', contractHash],
      ['contract.pdf data hash (hex)', utf8.encode(toHex(contractHash))],
      ['contract.pdf name', utf8.encode('contract.pdf')],
      ['contract.pdf bytes', contract.subarray(0, 24)],
      ...hashed.flatMap(h => [
        [`${h.name} data hash (raw)`, h.hash],
        [`${h.name} data hash (hex)`, utf8.encode(toHex(h.hash))],
        [`${h.name} name`, utf8.encode(h.name)]
      ] as Array<[string, Uint8Array]>)
    ])

    const validatorFiles = [
      ...(await Promise.all(cluster.nodes.map(async (_, i) => await filesUnder(nodeHome(cluster.dir, i))))).flat(),
      ...cluster.nodes.map((_, i) => join(cluster.dir, 'logs', `node-${i}.log`))
    ]
    // The search covers the validators' LevelDB files and their logs.
    expect(validatorFiles.filter(f => /\.(log|ldb|sst)$/.test(f) && f.includes('/node-')).length).toBeGreaterThan(4)
    expect(await search(validatorFiles, needles)).toEqual(new Map())

    // The control: the same search over the service's own store and the client's answers finds every one of them.
    const kept = join(cluster.dir, 'client-answers.json')
    await writeFile(kept, JSON.stringify(answers))
    const inStore = await search(await filesUnder(cluster.serviceDataDir), needles)
    expect([...inStore.keys()].filter(k => !k.endsWith('(hex)')).sort()).toEqual([...needles.keys()].filter(k => !k.endsWith('(hex)')).sort())
    const serviceFound = await search([...await filesUnder(cluster.serviceDataDir), kept], needles)
    expect([...serviceFound.keys()].sort()).toEqual([...needles.keys()].sort())
  }, 120_000)
})
