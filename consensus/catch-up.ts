/**
 * Catching up from committed blocks: which heights peers have shown they reached, whether this
 * validator is stalled, and whom to ask for blocks. At most one request per height between ticks;
 * the peer asked rotates (counting only requests made), so one lying about its height cannot
 * stall us.
 */
export class CatchUp {
  private readonly peerHeights = new Map<number, number>()
  private askedAt = -1
  private cursor = 0
  private heightAtLastTick = 0

  /** `validators`: how many there are; `self`: our index, never asked. */
  constructor (private readonly validators: number, private readonly self: number | undefined) {}

  notePeer (validator: number, height: number): void {
    if (validator >= 0 && height > (this.peerHeights.get(validator) ?? 0)) this.peerHeights.set(validator, height)
  }

  /**
   * A new tick: asking again is allowed. Returns whether this validator is stalled: active at the
   * same height for a whole tick.
   */
  tick (height: number, active: boolean): boolean {
    this.askedAt = -1
    const stalled = active && height === this.heightAtLastTick
    this.heightAtLastTick = height
    return stalled
  }

  /**
   * The validator to ask for blocks from `height` on, if peers are known to be ahead; when
   * `stalled`, any other validator in turn (peers that restarted may be ahead yet silent while
   * idle). Undefined if there is no one, or if we already asked at this height since the last tick.
   */
  whomToAsk (height: number, stalled = false): number | undefined {
    const candidates = stalled
      ? Array.from({ length: this.validators }, (_, v) => v).filter(v => v !== this.self)
      : [...this.peerHeights].filter(([, h]) => h > height).map(([v]) => v).sort((a, b) => a - b)
    if (candidates.length === 0 || this.askedAt === height) return undefined
    this.askedAt = height
    return candidates[this.cursor++ % candidates.length]
  }

  /** For state digests in tests. */
  inspect (): { peerHeights: Array<[number, number]>, askedAt: number, heightAtLastTick: number } {
    return { peerHeights: [...this.peerHeights].sort((a, b) => a[0] - b[0]), askedAt: this.askedAt, heightAtLastTick: this.heightAtLastTick }
  }
}
