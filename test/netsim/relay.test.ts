import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Relays, type LinkPolicy } from '../../cli/netsim/relay.js'
import { waitFor } from '../../lib/wait-for.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

/** An echo server behind a relay on loopback; the policy is the test's to change. */
async function relayedEcho (endpointOf: (a: string) => number | undefined = () => 0): Promise<{ relays: Relays, port: number, policy: LinkPolicy }> {
  const sockets = new Set<Socket>()
  const echo: Server = createServer(s => { sockets.add(s); s.on('error', () => {}); s.pipe(s) })
  await new Promise<void>(resolve => echo.listen(0, '127.0.0.1', resolve))
  const policy: LinkPolicy = { delayMs: 0, held: false }
  const relays = new Relays({ routes: [{ index: 1, listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: (echo.address() as AddressInfo).port } }], endpointOf })
  await relays.start()
  relays.setPolicy(() => policy)
  cleanups.push(async () => {
    await relays.stop()
    for (const s of sockets) s.destroy()
    await new Promise(resolve => echo.close(resolve))
  })
  return { relays, port: relays.ports()[0] as number, policy }
}

async function client (port: number): Promise<{ socket: Socket, received: () => Buffer }> {
  const socket = connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  socket.on('data', c => chunks.push(c))
  socket.on('error', () => {})
  await new Promise(resolve => socket.once('connect', resolve))
  cleanups.push(async () => { socket.destroy() })
  return { socket, received: () => Buffer.concat(chunks) }
}

async function roundTripMs (c: { socket: Socket, received: () => Buffer }, message: string): Promise<number> {
  const before = c.received().length
  const t0 = performance.now()
  c.socket.write(message)
  await waitFor('the echo', async () => c.received().length >= before + message.length ? true : undefined, 5000, 2)
  return performance.now() - t0
}

describe('netsim relay', () => {
  it('adds the link delay in each direction, and nothing at delay 0', async () => {
    const { port, policy } = await relayedEcho()
    const c = await client(port)
    expect(await roundTripMs(c, 'fast')).toBeLessThan(80)
    policy.delayMs = 100
    const rtt = await roundTripMs(c, 'slow')
    expect(rtt).toBeGreaterThanOrEqual(195)
    expect(rtt).toBeLessThan(600)
  })

  it('carries nothing while the link is held, then delivers everything in order on the same connection', async () => {
    const { relays, port, policy } = await relayedEcho()
    const c = await client(port)
    await roundTripMs(c, 'hello ')
    policy.held = true
    relays.setPolicy(() => policy)
    c.socket.write('during the partition')
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(c.received().toString()).toBe('hello ')
    policy.held = false
    relays.setPolicy(() => policy)
    await waitFor('the held bytes', async () => c.received().length === 'hello during the partition'.length ? true : undefined, 5000, 5)
    expect(c.received().toString()).toBe('hello during the partition')
    expect(c.socket.destroyed).toBe(false)
  })

  it('keeps a stream in order when the delay drops mid-stream', async () => {
    const { relays, port, policy } = await relayedEcho()
    const c = await client(port)
    policy.delayMs = 150
    const sent: Buffer[] = []
    for (let k = 0; k < 200; k++) {
      const chunk = Buffer.from(`chunk ${k};`)
      sent.push(chunk)
      c.socket.write(chunk)
      if (k === 100) { policy.delayMs = 0; relays.setPolicy(() => policy) }
      await new Promise(resolve => setImmediate(resolve))
    }
    const all = Buffer.concat(sent)
    await waitFor('every chunk', async () => c.received().length === all.length ? true : undefined, 5000, 5)
    expect(c.received().equals(all)).toBe(true)
  })

  it('hangs up on a source it does not know', async () => {
    const { port } = await relayedEcho(() => undefined)
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    cleanups.push(async () => { socket.destroy() })
    await new Promise(resolve => socket.once('close', resolve))
    expect(socket.bytesRead).toBe(0)
  })
})
