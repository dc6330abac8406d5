/**
 * The request/response protocols services use to reach this node (node-api.ts): submit a signed
 * submission of entries (refused unless a registered service signed it), fetch the sealed blocks
 * holding entries (held open until they commit, up to the asked wait), compare an entry with the
 * one anchored at a place under a signed attestation; plus block sync between validators. Every
 * request is decoded and checked before anything happens; a refusal is answered with a stable
 * error code.
 */
import { decode, encode } from '../consensus/codec.js'
import type { Ed25519 } from '../consensus/ed25519.js'
import { entriesOf, type ServiceSet } from '../consensus/entries.js'
import { TrustnetError } from '../consensus/errors.js'
import {
  CertificateRequestSchema, PROTOCOL, SubmitRequestSchema, SyncRequestSchema, VerifyRequestSchema,
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
  services: ServiceSet
  /** The machine's: a submission checked here is not verified again when a block holding it is judged. */
  ed: Ed25519
  index: number
  seed: Uint8Array
  now: () => number
  /** Told the code of each submission refused (metrics). */
  onSubmitRefused?: (code: string) => void
}

/** A submission of 1000 entries is about 32 KB; a certificate request as many entries. */
const MAX_REQUEST_BYTES = 64 * 1024
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
  const { rr, driver, store, certificates, genesis, services, ed } = deps
  await rr.handle(PROTOCOL.submit, answering(async req => {
    try {
      const { submission } = decode(SubmitRequestSchema, req, MAX_REQUEST_BYTES)
      // UNKNOWN_SERVICE or BAD_SIGNATURE before anything is looked up or stored.
      services.check(genesis.chainId, submission, ed)
      return { status: await driver.submit(submission) }
    } catch (err) {
      deps.onSubmitRefused?.(err instanceof TrustnetError ? err.code : 'INTERNAL')
      throw err
    }
  }), { maxRequestBytes: MAX_REQUEST_BYTES })

  await rr.handle(PROTOCOL.certificate, answering(async (req, signal) => {
    const request = decode(CertificateRequestSchema, req, MAX_REQUEST_BYTES)
    const entries = entriesOf(request)
    await driver.waitForEntries(entries, request.waitMs, signal)
    return { blocks: await certificates.blocks(entries) }
  }), { maxRequestBytes: MAX_REQUEST_BYTES, timeoutMs: 40_000 })

  await rr.handle(PROTOCOL.verify, answering(async req => {
    const { entry, height, index } = decode(VerifyRequestSchema, req, 1024)
    // Read through the issuer's block cache: a certificate's block is loaded once for many requests.
    const { anchored, outcome } = await certificates.compare(entry, height, index)
    return {
      attestation: signAttestation({ chainId: genesis.chainId, entry, height, index, anchored, outcome, validator: deps.index, time: deps.now() }, deps.seed)
    }
  }), { maxRequestBytes: 1024 })

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
