import { describe, expect, it } from 'vitest'
import { DEFAULT_BACKOFF, describeExit, nextRestartDelay } from '../../cli/supervisor.js'

describe('restart back-off', () => {
  it('starts at 0.5 s, doubles on each quick death up to 30 s', () => {
    const delays: number[] = []
    let d: number | undefined
    for (let i = 0; i < 9; i++) delays.push(d = nextRestartDelay(d, 1000))
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000])
  })

  it('starts over after a run of a minute or more', () => {
    expect(nextRestartDelay(30_000, DEFAULT_BACKOFF.resetAfterMs)).toBe(500)
    expect(nextRestartDelay(30_000, DEFAULT_BACKOFF.resetAfterMs - 1)).toBe(30_000)
  })

  it('names the signal that killed a process, or its exit code', () => {
    expect(describeExit(null, 'SIGKILL')).toBe('signal SIGKILL')
    expect(describeExit(134, null)).toBe('exit code 134')
  })
})
