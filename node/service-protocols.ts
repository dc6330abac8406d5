/**
 * The request/response protocols services use to reach this node (node-api.ts): submit records,
 * fetch certificates (held open until commit, up to the asked wait), compare a hash with the
 * anchored one under a signed attestation; plus block sync between validators. Every request is
 * decoded and checked before anything happens; a refusal is answered with a stable error code.
 */
import { decode, encode } from '../consensus/codec.js'
import { TrustnetError } from '../consensus/errors.js'
import { equalBytes } from '../consensus/codec.js'
import {
  CertificateRequestSchema, PROTOCOL, RecordsRequestSchema, SubmitRequestSchema, SyncRequestSchema, VerifyRequestSchema,
  signAttestation, type ErrorResponse
} from '../protocol/node-api.js'
import type { Genesis } from '../consensus/types.js'
import type { CertificateIssuer } from './certificates.js'
import type { ConsensusDriver } from './driver.js'
import type { RequestResponse } from '../net/request-response.js'
import type { ChainStore, StoredBlock } from './store/chain-store.js'

export interface ProtocolDeps {
  rr: RequestResponse
  driver: ConsensusDriver
  store: ChainStore
  certificates: CertificateIssuer
  genesis: Genesis
  index: number
  seed: Uint8Array
  now: () => number
}

const MAX_REQUEST_BYTES = 2 * 1024 * 1024
const MAX_SYNC_RESPONSE_BYTES = 8 * 1024 * 1024

function refusal (err: unknown): Uint8Array {
  const body: ErrorResponse = err instanceof TrustnetError
    ? { error: { code: err.code, message: err.message.slice(0, 1000) } }
    : { error: { code: 'INTERNAL', message: 'the node failed to answer' } }
  return encode(body)
}

/** Wraps a handler so that any refusal becomes an error response rather than a dropped stream. */
function answering (handler: (req: Uint8Array, signal: AbortSignal) => Promise<unknown>) {
  return async (req: Uint8Array, _from: string, opts: { signal: AbortSignal }): Promise<Uint8Array> => {
    try {
      return encode(await handler(req, opts.signal))
    } catch (err) {
      return refusal(err)
    }
  }
}

export async function registerServiceProtocols (deps: ProtocolDeps): Promise<void> {
  const { rr, driver, store, certificates, genesis } = deps
  await rr.handle(PROTOCOL.submit, answering(async req => {
    const { records } = decode(SubmitRequestSchema, req, MAX_REQUEST_BYTES)
    return { status: await driver.submit(records) }
  }), { maxRequestBytes: MAX_REQUEST_BYTES })

  await rr.handle(PROTOCOL.certificate, answering(async (req, signal) => {
    const { ids, waitMs } = decode(CertificateRequestSchema, req, MAX_REQUEST_BYTES)
    await driver.waitForRecords(ids, waitMs, signal)
    return { blocks: await certificates.blockProofs(ids) }
  }), { maxRequestBytes: MAX_REQUEST_BYTES, timeoutMs: 40_000 })

  await rr.handle(PROTOCOL.verify, answering(async req => {
    const { id, dataHash } = decode(VerifyRequestSchema, req, 1024)
    // Read through the issuer's block cache: the record's block is loaded once for many requests.
    const anchored = await certificates.anchored(id)
    const anchoredHash = anchored?.record.dataHash ?? null
    return {
      attestation: signAttestation({
        chainId: genesis.chainId,
        recordId: id,
        presentedHash: dataHash,
        anchoredHash,
        match: anchoredHash !== null && equalBytes(anchoredHash, dataHash),
        height: anchored?.height ?? null,
        validator: deps.index,
        time: deps.now()
      }, deps.seed)
    }
  }), { maxRequestBytes: 1024 })

  // Records of a proposal, for validators rebuilding it: from the mempool, else from the chain.
  await rr.handle(PROTOCOL.records, answering(async req => {
    const { ids } = decode(RecordsRequestSchema, req, MAX_REQUEST_BYTES)
    return {
      records: await Promise.all(ids.map(async id => {
        return driver.pendingRecord(id) ?? (await certificates.anchored(id))?.record ?? null
      }))
    }
  }), { maxRequestBytes: MAX_REQUEST_BYTES })

  await rr.handle(PROTOCOL.sync, answering(async req => {
    const { fromHeight, max } = decode(SyncRequestSchema, req, 1024)
    const blocks: StoredBlock[] = []
    let bytes = 0
    for (let h = fromHeight; h < fromHeight + max; h++) {
      const stored = await store.block(h)
      if (stored === undefined) break
      bytes += encode(stored).length
      if (blocks.length > 0 && bytes > MAX_SYNC_RESPONSE_BYTES) break
      blocks.push(stored)
    }
    return { blocks }
  }), { maxRequestBytes: 1024 })
}
