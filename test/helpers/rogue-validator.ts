/**
 * A libp2p host holding a validator's key, so that its peer id names that validator, which
 * answers the node-api protocols (submit, certificate, verify) with whatever the test hands it:
 * garbage, mis-signed or forged answers, or nothing until the caller gives up. It shows that a
 * client believes only what it can check, and never only who answered.
 *
 *   const rogue = await startRogueValidator(seed, async (protocol, req) => new Uint8Array(48))
 *   await waitFor('a verify request', () => rogue.received(PROTOCOL.verify) > 0)
 *   await rogue.stop()
 */
import '../../lib/promise-shim.js'
import { PROTOCOL } from '../../protocol/node-api.js'
import { createHost, type Host } from '../../net/host.js'
import { RequestResponse } from '../../net/request-response.js'

/** The answer to one request; `signal` fires when the exchange timed out or the rogue stops. */
export type RogueAnswer = (protocol: string, request: Uint8Array, signal: AbortSignal) => Promise<Uint8Array>

export interface RogueValidator {
  /** Multiaddr ending in /p2p/<peerId>. */
  readonly addr: string
  readonly peerId: string
  /** Requests received of `protocol` so far. */
  received(protocol: string): number
  stop(): Promise<void>
}

const SERVED = [PROTOCOL.submit, PROTOCOL.certificate, PROTOCOL.verify]

export async function startRogueValidator (seed: Uint8Array, answer: RogueAnswer): Promise<RogueValidator> {
  const host: Host = await createHost({ privateKeySeed: seed, listen: ['/ip4/127.0.0.1/tcp/0'] })
  const received = new Map<string, number>()
  const stopping = new AbortController()
  const stop = async (): Promise<void> => { stopping.abort(); await host.stop() }
  try {
    const addr = host.multiaddrs().find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))
    if (addr === undefined) throw new Error('rogue validator has no TCP address')
    const rr = new RequestResponse(host.node)
    for (const protocol of SERVED) {
      await rr.handle(protocol, async (req, _from, { signal }) => {
        received.set(protocol, (received.get(protocol) ?? 0) + 1)
        return await answer(protocol, req, AbortSignal.any([signal, stopping.signal]))
      }, { maxRequestBytes: 2 * 1024 * 1024, timeoutMs: 60_000 })
    }
    return {
      addr,
      peerId: host.peerId,
      received: protocol => received.get(protocol) ?? 0,
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/** An answer that never comes: ends (with an empty body nobody reads) only when the exchange times out or the rogue stops. */
export const neverAnswer: RogueAnswer = async (_protocol, _request, signal) => {
  await new Promise<void>(resolve => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => { resolve() }, { once: true })
  })
  return new Uint8Array(0)
}
