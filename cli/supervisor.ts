/**
 * Keeps one child process of `trustnet cluster` running: when it exits without being asked to
 * (killed by the kernel, crashed), it is started again after a back-off that doubles from 0.5 s
 * to 30 s and starts over once a run lasted a minute, each restart logged with the exit code or
 * signal. Stopping it (SIGTERM, waiting for the exit) ends the supervision first.
 */
import type { ChildProcess } from 'node:child_process'

export interface BackoffPolicy {
  initialMs: number
  maxMs: number
  /** A run at least this long counts as healthy: the next restart waits initialMs again. */
  resetAfterMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 }

/** The wait before the next start, given the previous wait (none yet) and how long the last run lasted. */
export function nextRestartDelay (previousMs: number | undefined, upMs: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (previousMs === undefined || upMs >= policy.resetAfterMs) return policy.initialMs
  return Math.min(previousMs * 2, policy.maxMs)
}

/** How a process ended, for the log: its exit code or the signal that killed it. */
export function describeExit (code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `signal ${signal}` : `exit code ${code ?? '?'}`
}

export class Supervised {
  private child: ChildProcess | undefined
  private delayMs: number | undefined
  private timer: NodeJS.Timeout | undefined
  private starting: Promise<void> | undefined
  private stopped = false
  /** Restarts so far. */
  restarts = 0

  /**
   * `start` resolves with a child that is ready (or rejects: it exited or never got ready);
   * `log` gets one line per exit and restart.
   */
  constructor (readonly name: string, private readonly start: () => Promise<ChildProcess>, private readonly log: (line: string) => void, private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /** The first start: a failure here is the caller's to report, not retried. */
  async begin (): Promise<void> {
    const first = this.start().then(async child => {
      if (this.stopped) await stopChild(child)
      else this.watch(child)
    })
    this.starting = first.catch(() => {})
    await first
  }

  get pid (): number | undefined { return this.child?.pid }

  private watch (child: ChildProcess): void {
    this.child = child
    const startedAt = Date.now()
    child.once('exit', (code, signal) => {
      this.child = undefined
      if (!this.stopped) this.schedule(`exited (${describeExit(code, signal)}) after ${seconds(Date.now() - startedAt)}`, Date.now() - startedAt)
    })
  }

  private schedule (what: string, upMs: number): void {
    this.delayMs = nextRestartDelay(this.delayMs, upMs, this.policy)
    this.log(`${this.name} ${what}; restarting in ${seconds(this.delayMs)}`)
    this.timer = setTimeout(() => { this.starting = this.restart() }, this.delayMs)
  }

  private async restart (): Promise<void> {
    this.timer = undefined
    const startedAt = Date.now()
    let child: ChildProcess
    try {
      child = await this.start()
    } catch (err) {
      if (!this.stopped) this.schedule(`failed to start (${(err as Error).message})`, Date.now() - startedAt)
      return
    }
    if (this.stopped) {
      await stopChild(child)
      return
    }
    this.restarts++
    this.log(`${this.name} restarted (pid ${child.pid ?? '?'})`)
    this.watch(child)
  }

  /** End supervision, then stop the child (SIGTERM) and wait for its exit. */
  async stop (): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.starting
    if (this.child !== undefined) await stopChild(this.child)
  }
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

function seconds (ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}
