/**
 * GossipBudget: a peer's messages on a topic fit while its message and byte buckets hold them,
 * refill with time up to the burst, and are counted per peer and per topic.
 */
import { describe, expect, it } from 'vitest'
import { GossipBudget } from '../../net/gossip-budget.js'

const LIMIT = { messagesPerSecond: 2, burstMessages: 3, bytesPerSecond: 100, burstBytes: 250 }

function budget (): { take: (peer: string, topic: string, size: number) => boolean, advance: (ms: number) => void } {
  let now = 0
  const b = new GossipBudget(peer => peer === 'unlimited' ? undefined : LIMIT, () => now)
  return { take: (p, t, s) => b.take(p, t, s), advance: ms => { now += ms } }
}

describe('GossipBudget', () => {
  it('lets a burst through, then the refill rate', () => {
    const { take, advance } = budget()
    expect([1, 2, 3, 4].map(() => take('a', 't', 1))).toEqual([true, true, true, false])
    advance(499)
    expect(take('a', 't', 1)).toBe(false)
    advance(1)
    expect(take('a', 't', 1)).toBe(true)
    // Never more than the burst, however long the quiet spell.
    advance(60_000)
    expect([1, 2, 3, 4].map(() => take('a', 't', 1))).toEqual([true, true, true, false])
  })

  it('counts bytes too: a message that does not fit takes nothing', () => {
    const { take, advance } = budget()
    expect(take('a', 't', 200)).toBe(true)
    expect(take('a', 't', 100)).toBe(false)
    expect(take('a', 't', 50)).toBe(true)
    advance(1000)
    expect(take('a', 't', 100)).toBe(true)
    expect(take('a', 't', 300)).toBe(false)
  })

  it('keeps one budget per peer and per topic; a peer without a limit is never held', () => {
    const { take } = budget()
    for (let i = 0; i < 3; i++) take('a', 't', 1)
    expect(take('a', 't', 1)).toBe(false)
    expect(take('a', 'other', 1)).toBe(true)
    expect(take('b', 't', 1)).toBe(true)
    expect(Array.from({ length: 100 }, () => take('unlimited', 't', 1_000_000)).every(Boolean)).toBe(true)
  })
})
