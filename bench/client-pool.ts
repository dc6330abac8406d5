/**
 * The bench's side of the load clients: forks N processes of the compiled load-client module,
 * hands each a phase, and gathers their results. The clients' output goes to stderr so stdout
 * stays JSON lines. `close()` ends every client, also after a failure.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Command, Phase, PhaseResult, Target } from './load-protocol.js'

const CLIENT_PATH = fileURLToPath(new URL('./load-client.js', import.meta.url))

type Reply = { ok: true, result: PhaseResult } | { ok: false, error: string }

export class ClientPool {
  private constructor (private readonly children: ChildProcess[]) {}

  static async start (count: number): Promise<ClientPool> {
    const children = Array.from({ length: count }, () => fork(CLIENT_PATH, [], { stdio: ['ignore', 2, 2, 'ipc'], execArgv: [] }))
    await Promise.all(children.map(async child => await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', reject)
    })))
    return new ClientPool(children)
  }

  get size (): number { return this.children.length }

  /** The clients' process ids, in client order. */
  get pids (): Array<number | undefined> { return this.children.map(child => child.pid) }

  /** Run `phaseOf(i)` on client i, all at once; resolves with every client's result. */
  async run (target: Target, phaseOf: (client: number) => Phase): Promise<PhaseResult[]> {
    return await Promise.all(this.children.map(async (child, i) => await new Promise<PhaseResult>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null): void => { reject(new Error(`load client ${i} exited (${code ?? signal})`)) }
      child.once('exit', onExit)
      child.once('message', (reply: Reply) => {
        child.off('exit', onExit)
        if (reply.ok) resolve(reply.result)
        else reject(new Error(`load client ${i} failed: ${reply.error}`))
      })
      this.send(child, { type: 'run', target, phase: phaseOf(i) })
    })))
  }

  /** Ask every client to end its current phase (the soak runs until told). */
  stop (): void {
    for (const child of this.children) this.send(child, { type: 'stop' })
  }

  async close (): Promise<void> {
    await Promise.all(this.children.map(async child => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise(resolve => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    }))
  }

  private send (child: ChildProcess, command: Command): void {
    if (child.connected) child.send(command)
  }
}

/** Sum the per-client results of one phase. */
export function merge (results: PhaseResult[]): PhaseResult {
  const first = results[0]
  if (first === undefined) throw new Error('no client results')
  return results.slice(1).reduce((a, r) => ({
    kind: a.kind,
    inWindow: a.inWindow + r.inWindow,
    ok: a.ok + r.ok,
    requests: a.requests + r.requests,
    pending: a.pending + r.pending,
    failures: a.failures + r.failures,
    firstFailure: a.firstFailure ?? r.firstFailure,
    latenciesMs: a.latenciesMs.concat(r.latenciesMs),
    dropped: a.dropped + r.dropped,
    lateSends: a.lateSends + r.lateSends,
    certificates: a.certificates.concat(r.certificates),
    ids: a.ids.concat(r.ids),
    certified: a.certified.concat(r.certified)
  }), first)
}
