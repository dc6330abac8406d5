/**
 * The soak's load: an open loop that sends on its schedule whatever the answers, alternately a
 * document and a hash, until told to stop. What it offered is what it sent plus what it dropped
 * at its in-flight bound; every certificate received is kept with its id, and latency runs from
 * each request's scheduled time. Against an in-process stand-in for the service.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { runPhase } from '../../bench/load-phases.js'

let server: Server | undefined

/** Answers POST /v1/data and /v1/hashes after `delayMs` with `status` (201: an id and a certificate); counts each path. */
async function standIn (delayMs: number, status: (n: number) => number): Promise<{ url: string, paths: Map<string, number> }> {
  const paths = new Map<string, number>()
  let n = 0
  const s = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] as string
    paths.set(path, (paths.get(path) ?? 0) + 1)
    const code = status(n++)
    req.resume()
    req.on('end', () => setTimeout(() => {
      res.writeHead(code, { 'content-type': 'application/json' })
      res.end(JSON.stringify(code === 201 ? { id: `id-${n}`, certificate: { n } } : code === 202 ? { id: `id-${n}` } : { error: { code: 'UNAVAILABLE' } }))
    }, delayMs))
  })
  server = s
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, paths }
}

afterEach(async () => {
  const s = server
  server = undefined
  s?.closeAllConnections()
  await new Promise(resolve => s?.close(resolve))
})

/** Run the soak phase at `ratePerS` for `ms`, then stop it; `ranMs` is how long it ran until the stop (a busy machine fires timers late). */
async function soakFor (url: string, ratePerS: number, ms: number, maxInFlight: number): Promise<Awaited<ReturnType<typeof runPhase>> & { ranMs: number }> {
  const startAt = Date.now() + 50
  let stoppedAt: number | undefined
  const timer = setTimeout(() => { stoppedAt = Date.now() }, 50 + ms)
  try {
    const r = await runPhase({ serviceUrl: url, apiKey: 'k' }, { kind: 'soak', ratePerS, startAt, rampUntil: startAt, maxInFlight }, () => stoppedAt !== undefined)
    return { ...r, ranMs: (stoppedAt ?? Date.now()) - startAt }
  } finally {
    clearTimeout(timer)
  }
}

describe('soak phase', () => {
  it('sends on schedule, half documents and half hashes, keeps every certificate and times each from its due time', async () => {
    const service = await standIn(30, () => 201)
    const r = await soakFor(service.url, 100, 1000, 1000)
    // 100/s for as long as it ran, give or take the schedule's edges.
    expect(Math.abs(r.requests - r.ranMs / 10)).toBeLessThanOrEqual(5)
    expect(r).toMatchObject({ kind: 'soak', dropped: 0, failures: 0, pending: 0, ok: r.requests })
    expect(Math.abs((service.paths.get('/v1/data') ?? 0) - (service.paths.get('/v1/hashes') ?? 0))).toBeLessThanOrEqual(1)
    expect(r.ids).toHaveLength(r.ok)
    expect(r.certified).toHaveLength(r.ok)
    expect(r.latenciesMs).toHaveLength(r.ok)
    // At least the stand-in's 30 ms, less the clocks' millisecond granularity (a timer may fire a fraction early).
    expect(Math.min(...r.latenciesMs)).toBeGreaterThanOrEqual(28)
  })

  it('drops what is due at its in-flight bound, and counts pending and refused answers apart', async () => {
    const service = await standIn(400, n => [201, 202, 503][n % 3] as number)
    const r = await soakFor(service.url, 100, 600, 10)
    // Answers take 400 ms and 10 may be in flight: about 25 of each 100 due a second go out.
    expect(r.dropped).toBeGreaterThan(r.requests)
    expect(Math.abs(r.requests + r.dropped - r.ranMs / 10)).toBeLessThanOrEqual(5)
    expect(r.ok + r.pending + r.failures).toBe(r.requests)
    expect(r.pending).toBeGreaterThan(0)
    expect(r.failures).toBeGreaterThan(0)
    expect(r.firstFailure).toContain('503')
  })
})
