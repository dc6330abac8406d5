/**
 * Fair turns at the door: each client may have a bounded number of requests being handled at
 * once; its further requests wait in its own first-in first-out line (bounded too, beyond which
 * they are refused), so one client sending many large batches holds at most its own share of the
 * service and another client's request never waits behind them at the door.
 */

export class ClientGate {
  private readonly active = new Map<string, number>()
  private readonly lines = new Map<string, Array<() => void>>()

  constructor (private readonly maxActive: number, private readonly maxWaiting: number) {}

  /**
   * A turn for `client`: resolves with the function that ends it (call it exactly once), or
   * undefined when the client's line is full. A waiting request whose `signal` fires leaves the line.
   */
  async enter (client: string, signal?: AbortSignal): Promise<(() => void) | undefined> {
    const active = this.active.get(client) ?? 0
    if (active < this.maxActive) {
      this.active.set(client, active + 1)
      return this.leaver(client)
    }
    const line = this.lines.get(client) ?? []
    if (line.length >= this.maxWaiting) return undefined
    this.lines.set(client, line)
    return await new Promise(resolve => {
      const turn = (): void => {
        signal?.removeEventListener('abort', leave)
        resolve(this.leaver(client))
      }
      const leave = (): void => {
        const i = line.indexOf(turn)
        if (i !== -1) line.splice(i, 1)
        if (line.length === 0 && this.lines.get(client) === line) this.lines.delete(client)
        resolve(undefined)
      }
      line.push(turn)
      signal?.addEventListener('abort', leave, { once: true })
    })
  }

  /** Requests of `client` being handled and waiting. */
  load (client: string): { active: number, waiting: number } {
    return { active: this.active.get(client) ?? 0, waiting: this.lines.get(client)?.length ?? 0 }
  }

  /** Ends a turn once: hands it to the next in the client's line, or frees it. */
  private leaver (client: string): () => void {
    let done = false
    return () => {
      if (done) return
      done = true
      const line = this.lines.get(client)
      const next = line?.shift()
      if (line?.length === 0) this.lines.delete(client)
      // The turn passes on without being freed, so no newcomer can overtake the line.
      if (next !== undefined) { next(); return }
      const active = (this.active.get(client) ?? 1) - 1
      if (active === 0) this.active.delete(client)
      else this.active.set(client, active)
    }
  }
}
