/**
 * Per-peer, per-topic budgets for gossip received: a token bucket of messages and one of bytes,
 * refilled continuously up to a burst. A message that does not fit is not taken (the caller drops
 * it); a peer's buckets are kept for a bounded number of peers (the mesh admits known peers only).
 */
import { BoundedMap } from '../lib/bounded-map.js'

export interface GossipLimit {
  messagesPerSecond: number
  /** Messages that may arrive at once after a quiet spell. */
  burstMessages: number
  bytesPerSecond: number
  burstBytes: number
}

interface Buckets { messages: number, bytes: number, at: number }

export class GossipBudget {
  private readonly buckets = new BoundedMap<string, Buckets>(4096, { touchOnGet: true })

  /** `limitOf` gives a peer's limit on a topic; undefined means unlimited. */
  constructor (private readonly limitOf: (peer: string, topic: string) => GossipLimit | undefined, private readonly now: () => number = () => performance.now()) {}

  /** Takes one message of `size` bytes from the peer's budget on `topic`; false (and nothing taken) when it does not fit. */
  take (peer: string, topic: string, size: number): boolean {
    const limit = this.limitOf(peer, topic)
    if (limit === undefined) return true
    const key = `${peer} ${topic}`
    const now = this.now()
    const b = this.buckets.get(key) ?? { messages: limit.burstMessages, bytes: limit.burstBytes, at: now }
    const seconds = Math.max(0, now - b.at) / 1000
    b.messages = Math.min(limit.burstMessages, b.messages + seconds * limit.messagesPerSecond)
    b.bytes = Math.min(limit.burstBytes, b.bytes + seconds * limit.bytesPerSecond)
    b.at = now
    const fits = b.messages >= 1 && b.bytes >= size
    if (fits) {
      b.messages -= 1
      b.bytes -= size
    }
    this.buckets.set(key, b)
    return fits
  }
}
