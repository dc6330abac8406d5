/**
 * The load clients' connect phase: it opens the connections it is asked for, all at once, and
 * the requests that follow reuse them instead of opening new ones; a refusing service is counted
 * as failures, not hidden.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { runPhase } from '../../bench/load-phases.js'
import { health } from '../../bench/service-requests.js'

let server: Server | undefined

/** A service stand-in answering GET /v1/health with `status`; counts the connections it accepted. */
async function standIn (status: number): Promise<{ url: string, connections: () => number }> {
  let connections = 0
  const s = createServer((req, res) => {
    res.writeHead(req.url === '/v1/health' ? status : 404, { 'content-type': 'application/json' })
    res.end(JSON.stringify(status === 200 ? { status: 'ok' } : { error: { code: 'UNAVAILABLE', message: 'refused' } }))
  })
  s.on('connection', () => { connections++ })
  server = s
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, connections: () => connections }
}

afterEach(async () => {
  const s = server
  server = undefined
  s?.closeAllConnections()
  await new Promise(resolve => s?.close(resolve))
})

describe('connect phase', () => {
  it('opens one connection per request and keeps them for the requests that follow', async () => {
    const service = await standIn(200)
    const target = { serviceUrl: service.url, apiKey: 'k' }
    const r = await runPhase(target, { kind: 'connect', count: 12 }, () => false)
    expect(r).toMatchObject({ kind: 'connect', requests: 12, ok: 12, failures: 0 })
    expect(service.connections()).toBe(12)
    // As many requests at once again, once the client has taken the answered connections back
    // (undici does so one event-loop turn after an answer): every one finds an open connection.
    await new Promise(resolve => setImmediate(resolve))
    const again = await Promise.all(Array.from({ length: 12 }, async () => await health(target)))
    expect(again.every(a => a.status === 200)).toBe(true)
    expect(service.connections()).toBe(12)
  })

  it('counts refused requests as failures', async () => {
    const service = await standIn(503)
    const r = await runPhase({ serviceUrl: service.url, apiKey: 'k' }, { kind: 'connect', count: 3 }, () => false)
    expect(r).toMatchObject({ requests: 3, ok: 0, failures: 3 })
    expect(r.firstFailure).toContain('503')
  })
})
