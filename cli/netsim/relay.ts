/**
 * Userspace TCP relays between validators, for what this kernel cannot do in tc (no netem). Each
 * validator is dialled by everyone at its relay's address on the host; the relay knows the
 * dialler by its source address and forwards to the validator. Per link (pair of endpoints) it
 * holds every chunk for the link's delay, in order, each direction; and it carries nothing across
 * a partition: it stops reading, so TCP keeps the connection and its data waits in the kernel's
 * buffers, as in a short real outage, and flows again when the partition heals. Delay 0 and no
 * partition: bytes pass straight through.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'

/** Who is on the other end of a connection: a validator index, or another endpoint (the service). */
export type Endpoint = number | 'service'

export interface RelayRoute {
  /** The validator behind this listener. */
  index: number
  listen: { host: string, port: number }
  target: { host: string, port: number }
}

export interface RelayInit {
  routes: RelayRoute[]
  /** The endpoint a source address belongs to; undefined: refused. */
  endpointOf: (address: string) => Endpoint | undefined
}

export interface LinkPolicy {
  delayMs: number
  held: boolean
}

/** What a phase asks of a link between two endpoints. */
export type PolicyOf = (a: Endpoint, b: number) => LinkPolicy

/** Above this many bytes waiting in one direction, stop reading until it drains. */
const HIGH_WATER = 4 * 1024 * 1024

class Direction {
  private readonly queue: Array<{ chunk: Buffer, due: number }> = []
  private queued = 0
  private lastDue = 0
  private timer: NodeJS.Timeout | undefined
  private waitingDrain = false
  private ended = false

  constructor (private readonly src: Socket, private readonly dst: Socket, private readonly policy: () => LinkPolicy) {
    src.on('data', chunk => this.push(chunk as Buffer))
    src.on('end', () => { this.ended = true; this.flush() })
  }

  private push (chunk: Buffer): void {
    const now = performance.now()
    // Never earlier than the chunk before it: a shorter delay set mid-stream must not reorder.
    const due = Math.max(now + this.policy().delayMs, this.lastDue)
    this.lastDue = due
    this.queue.push({ chunk, due })
    this.queued += chunk.length
    if (this.queued > HIGH_WATER) this.src.pause()
    this.flush()
  }

  /** Write every chunk that is due, unless held; then wait for the next one. */
  flush (): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined }
    const { held } = this.policy()
    if (held) { this.src.pause(); return }
    if (this.waitingDrain || this.dst.destroyed) return
    const now = performance.now()
    while (this.queue.length > 0 && (this.queue[0] as { due: number }).due <= now) {
      const { chunk } = this.queue.shift() as { chunk: Buffer }
      this.queued -= chunk.length
      if (!this.dst.write(chunk)) {
        this.waitingDrain = true
        this.dst.once('drain', () => { this.waitingDrain = false; this.flush() })
        return
      }
    }
    if (this.queued <= HIGH_WATER && this.src.isPaused()) this.src.resume()
    const head = this.queue[0]
    if (head !== undefined) this.timer = setTimeout(() => this.flush(), Math.max(0, head.due - now))
    else if (this.ended) this.dst.end()
  }

  stop (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
  }
}

class Pipe {
  private readonly directions: Direction[]

  constructor (readonly a: Socket, readonly b: Socket, policy: () => LinkPolicy, onClose: () => void) {
    this.directions = [new Direction(a, b, policy), new Direction(b, a, policy)]
    let closed = false
    const close = (): void => {
      if (closed) return
      closed = true
      for (const d of this.directions) d.stop()
      a.destroy()
      b.destroy()
      onClose()
    }
    for (const s of [a, b]) {
      s.on('error', close)
      s.on('close', close)
    }
  }

  /** The policy changed: release what a partition held, or reschedule for a new delay. */
  update (): void {
    for (const d of this.directions) d.flush()
  }
}

export class Relays {
  private readonly servers: Server[] = []
  private readonly pipes = new Set<Pipe>()
  private policyOf: PolicyOf = () => ({ delayMs: 0, held: false })
  /** Connections by link, for the report. */
  readonly accepted = new Map<string, number>()

  constructor (private readonly init: RelayInit) {}

  async start (): Promise<void> {
    for (const route of this.init.routes) {
      const server = createServer({ allowHalfOpen: true, noDelay: true }, socket => this.accept(route, socket))
      this.servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(route.listen.port, route.listen.host, () => { server.off('error', reject); resolve() })
      })
    }
  }

  /** The port each route's listener took (as asked, or picked by the OS for port 0). */
  ports (): number[] {
    return this.servers.map(s => (s.address() as AddressInfo).port)
  }

  /** Set every link's policy (a new phase); connections in progress follow at once. */
  setPolicy (policyOf: PolicyOf): void {
    this.policyOf = policyOf
    for (const pipe of this.pipes) pipe.update()
  }

  private accept (route: RelayRoute, socket: Socket): void {
    const from = this.init.endpointOf(socket.remoteAddress ?? '')
    if (from === undefined) { socket.destroy(); return }
    const key = `${from}->${route.index}`
    this.accepted.set(key, (this.accepted.get(key) ?? 0) + 1)
    const upstream = connect({ host: route.target.host, port: route.target.port, allowHalfOpen: true, noDelay: true })
    const pipe: Pipe = new Pipe(socket, upstream, () => this.policyOf(from, route.index), () => this.pipes.delete(pipe))
    this.pipes.add(pipe)
  }

  async stop (): Promise<void> {
    for (const pipe of this.pipes) { pipe.a.destroy(); pipe.b.destroy() }
    await Promise.all(this.servers.map(async s => await new Promise<void>(resolve => s.close(() => resolve()))))
  }
}
