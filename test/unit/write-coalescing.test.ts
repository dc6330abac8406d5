/**
 * Write coalescing on a real loopback TCP socket: what a turn of the event loop hands to the
 * connection stays in the corked socket until the turn ends and then arrives in order, later turns still go out,
 * backpressure still reports, and a connection without a TCP socket is left as it was.
 */
import { once } from 'node:events'
import { createServer, connect, type Server, type Socket } from 'node:net'
import type { MessageStream } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { corkPerTurn } from '../../net/write-coalescing.js'

/** Stands in for @libp2p/tcp's connection: a socket and a sendData that writes each buffer. */
class FakeTcpConnection {
  writes = 0
  constructor (readonly socket: Socket) {}
  sendData (data: Uint8Array[]): { sentBytes: number, canSendMore: boolean } {
    let sentBytes = 0
    let canSendMore = true
    for (const buf of data) {
      this.writes++
      sentBytes += buf.byteLength
      canSendMore = this.socket.write(buf)
    }
    return { sentBytes, canSendMore }
  }
}

let server: Server | undefined
const sockets: Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  if (server !== undefined) await new Promise(resolve => server?.close(resolve))
  server = undefined
})

/** A connected pair: the client socket and the chunks the server side reads. */
async function socketPair (): Promise<{ client: Socket, chunks: Buffer[], received: (bytes: number) => Promise<void> }> {
  const chunks: Buffer[] = []
  let total = 0
  const waiters: Array<{ bytes: number, resolve: () => void }> = []
  server = createServer(s => {
    sockets.push(s)
    s.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      total += chunk.length
      for (const w of waiters.filter(w => total >= w.bytes)) w.resolve()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  const client = connect({ port, host: '127.0.0.1', noDelay: true })
  sockets.push(client)
  await once(client, 'connect')
  const received = async (bytes: number): Promise<void> => {
    if (total >= bytes) return
    await new Promise<void>(resolve => waiters.push({ bytes, resolve }))
  }
  return { client, chunks, received }
}

describe('corkPerTurn', () => {
  it('holds what one turn writes in the socket until the turn ends, then sends it in order', async () => {
    const { client, chunks, received } = await socketPair()
    const conn = new FakeTcpConnection(client)
    const stream = corkPerTurn(conn as unknown as MessageStream) as unknown as FakeTcpConnection
    // Like Noise: a 2-byte length, then the frame; three frames in one turn.
    for (let i = 0; i < 3; i++) stream.sendData([Uint8Array.of(0, 4), Uint8Array.of(i, i, i, i)])
    // Six buffers handed over, none written yet: they leave together once the turn is over.
    expect(conn.writes).toBe(6)
    expect(client.writableCorked).toBe(1)
    expect(client.writableLength).toBe(18)
    await new Promise(resolve => setImmediate(resolve))
    expect(client.writableCorked).toBe(0)
    await received(18)
    expect([...Buffer.concat(chunks)]).toEqual([0, 4, 0, 0, 0, 0, 0, 4, 1, 1, 1, 1, 0, 4, 2, 2, 2, 2])

    // A later turn corks again and its bytes follow.
    stream.sendData([Uint8Array.of(9)])
    expect(client.writableCorked).toBe(1)
    await received(19)
    expect(Buffer.concat(chunks).at(-1)).toBe(9)
  })

  it('still reports a full socket, and everything arrives once uncorked', async () => {
    const { client, received } = await socketPair()
    const stream = corkPerTurn(new FakeTcpConnection(client) as unknown as MessageStream) as unknown as FakeTcpConnection
    const big = new Uint8Array(client.writableHighWaterMark + 1).fill(7)
    expect(stream.sendData([big]).canSendMore).toBe(false)
    await once(client, 'drain')
    await received(big.length)
  })

  it('leaves a connection without a TCP socket unchanged', () => {
    const sendData = (): void => {}
    const notTcp = { socket: {}, sendData }
    expect(corkPerTurn(notTcp as unknown as MessageStream)).toBe(notTcp)
    expect(notTcp.sendData).toBe(sendData)
  })
})
