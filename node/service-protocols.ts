/**
 * The request/response protocols services use to reach this node (node-api.ts): submit a signed
 * submission of entries (refused unless a registered service signed it), fetch the sealed blocks
 * holding entries (held open until they commit, up to the asked wait), compare an entry with the
 * one anchored at a place under a signed attestation; plus block sync between validators. Who
 * asks is known (the connection's peer id, after the gater let only the genesis's validators and
 * services in): sync is answered to validators only, one request of a peer at a time; the others
 * to validators and registered services, and a service submits under its own index only. Every
 * request is decoded and checked before anything happens; a refusal is answered with a stable
 * error code.
 */
import { decode, encode } from '../consensus/codec.js'
import type { Ed25519 } from '../consensus/ed25519.js'
import { entriesOf, type ServiceSet } from '../consensus/entries.js'
import { TrustnetError } from '../consensus/errors.js'
import { CodedError } from '../lib/errors.js'
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
  /** Who a peer id is in the genesis: a validator's or a service's index, or neither. */
  roles: PeerRoles
}

export interface PeerRoles {
  validator: (peerId: string) => number | undefined
  service: (peerId: string) => number | undefined
}

/**
 * A request refused for who sent it: FORBIDDEN (the peer may not use this protocol), WRONG_SERVICE
 * (a service submitting under another's index), BUSY (a sync of this peer is still being answered).
 */
export class AccessRefusedError extends CodedError<'FORBIDDEN' | 'WRONG_SERVICE' | 'BUSY'> {
  override readonly name = 'AccessRefusedError'
}

/** A submission of 1000 entries is about 32 KB; a certificate request as many entries. */
const MAX_REQUEST_BYTES = 64 * 1024
const MAX_SYNC_RESPONSE_BYTES = 8 * 1024 * 1024
/**
 * Streams of one protocol a connection may hold open at once (a peer holds at most 4 open
 * connections, see net/host.ts). A service sends up to 32 requests of a protocol at a time (its
 * RequestResponse's maxRequestsPerPeer); sync is asked one at a time.
 */
const MAX_INBOUND_STREAMS = 32
/** How long a verify about a block this validator has not committed yet waits for it; then it answers what it has. */
const VERIFY_HEIGHT_WAIT_MS = 3000
const MAX_SYNC_STREAMS = 2

function refusal (err: unknown): Uint8Array {
  const body: ErrorResponse = err instanceof TrustnetError || err instanceof AccessRefusedError
    ? { error: { code: err.code, message: err.message.slice(0, 1000) } }
    : { error: { code: 'INTERNAL', message: 'the node failed to answer' } }
  return encode(body)
}

/** Wraps a handler so that any refusal becomes an error response rather than a dropped stream. */
function answering (handler: (req: Uint8Array, signal: AbortSignal, from: string) => Promise<unknown>) {
  return async (req: Uint8Array, from: string, opts: { signal: AbortSignal }): Promise<Uint8Array> => {
    try {
      return encode(await handler(req, opts.signal, from))
    } catch (err) {
      return refusal(err)
    }
  }
}

export async function registerServiceProtocols (deps: ProtocolDeps): Promise<void> {
  const { rr, driver, store, certificates, genesis, services, ed, roles } = deps
  const validatorOnly = (from: string): void => {
    if (roles.validator(from) === undefined) throw new AccessRefusedError('FORBIDDEN', 'only validators may use this protocol', { peer: from })
  }
  /** The sender's service index; undefined for a validator. */
  const serviceOrValidator = (from: string): number | undefined => {
    const service = roles.service(from)
    if (service === undefined && roles.validator(from) === undefined) throw new AccessRefusedError('FORBIDDEN', 'only validators and registered services may use this protocol', { peer: from })
    return service
  }

  await rr.handle(PROTOCOL.submit, answering(async (req, _signal, from) => {
    try {
      const sender = serviceOrValidator(from)
      const { submission } = decode(SubmitRequestSchema, req, MAX_REQUEST_BYTES)
      // A service's libp2p key is its registered key: it speaks for its own index only.
      if (sender !== undefined && submission.service !== sender) {
        throw new AccessRefusedError('WRONG_SERVICE', `service ${sender} may not submit for service ${submission.service}`, { sender, service: submission.service })
      }
      // UNKNOWN_SERVICE or BAD_SIGNATURE before anything is looked up or stored.
      services.check(genesis.chainId, submission, ed)
      return { status: await driver.submit(submission) }
    } catch (err) {
      deps.onSubmitRefused?.(err instanceof CodedError ? err.code : 'INTERNAL')
      throw err
    }
  }), { maxRequestBytes: MAX_REQUEST_BYTES, maxInboundStreams: MAX_INBOUND_STREAMS })

  await rr.handle(PROTOCOL.certificate, answering(async (req, signal, from) => {
    serviceOrValidator(from)
    const request = decode(CertificateRequestSchema, req, MAX_REQUEST_BYTES)
    const entries = entriesOf(request)
    await driver.waitForEntries(entries, request.waitMs, signal)
    return { blocks: await certificates.blocks(entries) }
  }), { maxRequestBytes: MAX_REQUEST_BYTES, timeoutMs: 40_000, maxInboundStreams: MAX_INBOUND_STREAMS })

  await rr.handle(PROTOCOL.verify, answering(async (req, signal, from) => {
    serviceOrValidator(from)
    const { entry, height, index } = decode(VerifyRequestSchema, req, 1024)
    // A certificate can reach the service before this validator has the precommits that sealed its block.
    await driver.waitForHeight(height, VERIFY_HEIGHT_WAIT_MS, signal)
    // Read through the issuer's block cache: a certificate's block is loaded once for many requests.
    const { anchored, outcome } = await certificates.compare(entry, height, index)
    return {
      attestation: signAttestation({ chainId: genesis.chainId, entry, height, index, anchored, outcome, validator: deps.index, time: deps.now() }, deps.seed)
    }
  }), { maxRequestBytes: 1024, maxInboundStreams: MAX_INBOUND_STREAMS })

  // Peers whose sync answer is being built: a validator catching up asks one range at a time.
  const syncing = new Set<string>()
  await rr.handle(PROTOCOL.sync, answering(async (req, _signal, from) => {
    validatorOnly(from)
    if (syncing.has(from)) throw new AccessRefusedError('BUSY', 'a sync request of this peer is already being answered', { peer: from })
    const { fromHeight, max } = decode(SyncRequestSchema, req, 1024)
    syncing.add(from)
    try {
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
    } finally {
      syncing.delete(from)
    }
  }), { maxRequestBytes: 1024, maxInboundStreams: MAX_SYNC_STREAMS })
}
