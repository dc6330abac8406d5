/**
 * waitFor: returns the first value that holds (not undefined, not false), retries checks that
 * throw, and ends with a WaitError naming what it waited for, past its deadline or when aborted.
 */
import { describe, expect, it } from 'vitest'
import { waitFor } from '../../lib/wait-for.js'

async function refusal (p: Promise<unknown>): Promise<{ name: string, code: string, what: unknown, cause: unknown }> {
  try {
    await p
  } catch (err) {
    const e = err as { name: string, code: string, details?: { what?: unknown }, cause?: unknown }
    return { name: e.name, code: e.code, what: e.details?.what, cause: e.cause }
  }
  throw new Error('expected a refusal')
}

describe('waitFor', () => {
  it('returns the first value that holds, polling until then', async () => {
    let calls = 0
    expect(await waitFor('the third call', () => ++calls >= 3 ? `call ${calls}` : undefined, 2_000, 1)).toBe('call 3')
    let n = 0
    expect(await waitFor('a true condition', async () => ++n === 2, 2_000, 1)).toBe(true)
    // 0 and '' are values: only undefined and false mean "not yet".
    expect(await waitFor('zero', () => 0)).toBe(0)
  })

  it('treats a throwing check as not yet, and names the last error when time runs out', async () => {
    let calls = 0
    const value = await waitFor('a flaky check', () => {
      if (++calls < 3) throw new Error('not up yet')
      return 'up'
    }, 2_000, 1)
    expect(value).toBe('up')
    const problem = new Error('connection refused')
    const failed = await refusal(waitFor('a dead server', () => { throw problem }, 30, 5))
    expect(failed).toEqual({ name: 'WaitError', code: 'WAIT_TIMEOUT', what: 'a dead server', cause: problem })
  })

  it('times out on a condition that never holds, having checked at least once', async () => {
    let calls = 0
    const failed = await refusal(waitFor('never', () => { calls++; return false }, 0, 1))
    expect(failed).toMatchObject({ name: 'WaitError', code: 'WAIT_TIMEOUT', what: 'never' })
    expect(calls).toBe(1)
  })

  it('stops when its signal fires, before the deadline', async () => {
    const controller = new AbortController()
    const started = Date.now()
    const waiting = refusal(waitFor('an event that does not come', () => undefined, 60_000, 10_000, controller.signal))
    setImmediate(() => { controller.abort(new Error('shutting down')) })
    expect(await waiting).toMatchObject({ name: 'WaitError', code: 'WAIT_ABORTED', what: 'an event that does not come' })
    expect(Date.now() - started).toBeLessThan(5_000)
  })
})
