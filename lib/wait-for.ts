/**
 * Polling until something holds: `check` is called every `intervalMs` until it returns a value
 * other than undefined or false, which waitFor returns. A check that throws counts as "not yet"
 * (a process still starting refuses connections); the last such error is the cause of the
 * timeout. Ends with a WaitError naming what was awaited: WAIT_TIMEOUT past `timeoutMs`,
 * WAIT_ABORTED when `signal` fires.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { CodedError } from './errors.js'

export class WaitError extends CodedError<'WAIT_TIMEOUT' | 'WAIT_ABORTED'> {
  override readonly name = 'WaitError'
}

export async function waitFor<T> (
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 60_000,
  intervalMs = 100,
  signal?: AbortSignal
): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    if (signal?.aborted === true) throw new WaitError('WAIT_ABORTED', `stopped waiting for ${what}`, { what }, { cause: signal.reason })
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>
    } catch (err) {
      lastError = err
    }
    const left = deadline - Date.now()
    if (left <= 0) {
      const why = lastError === undefined ? '' : `: ${(lastError as Error).message}`
      throw new WaitError('WAIT_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}${why}`, { what, timeoutMs }, { cause: lastError })
    }
    await sleep(Math.min(intervalMs, left), undefined, { signal }).catch(() => {})
  }
}
