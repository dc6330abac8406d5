import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI_PATH } from '../../cli/cluster.js'
import { clusterOffsets, freePortBase } from '../../cli/free-ports.js'
import { waitFor } from '../../lib/wait-for.js'

// `trustnet cluster` as an operator runs it: a validator killed by the kernel comes back, and
// `kill -9` of the cluster itself leaves no process behind and no lock on its data.

interface Summary { service: string, apiKey: string, nodes: string[] }

/** The processes whose parent is `ppid`, with their command lines (Linux /proc). */
function childrenOf (ppid: number): Array<{ pid: number, cmd: string }> {
  const found: Array<{ pid: number, cmd: string }> = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      // The command name may hold spaces and parentheses; the fields after its last ')' do not.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (parent === ppid) found.push({ pid: Number(name), cmd: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ') })
    } catch { /* gone meanwhile */ }
  }
  return found
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Start `trustnet cluster` and resolve with its summary line; stderr lines are collected. */
async function startCluster (dir: string, basePort: number, stderr: string[]): Promise<{ cluster: ChildProcess, summary: Summary }> {
  const cluster = spawn(process.execPath, [CLI_PATH, 'cluster', '--dir', dir, '--validators', '4', '--base-port', String(basePort), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  createInterface({ input: cluster.stderr as NodeJS.ReadableStream }).on('line', line => stderr.push(line))
  const summary = await new Promise<Summary>((resolve, reject) => {
    createInterface({ input: cluster.stdout as NodeJS.ReadableStream }).once('line', line => resolve(JSON.parse(line) as Summary))
    cluster.once('exit', code => reject(new Error(`cluster exited with ${code}: ${stderr.join(' | ')}`)))
  })
  return { cluster, summary }
}

async function anchorOne (summary: Summary, n: number): Promise<void> {
  const hash = n.toString(16).padStart(64, '0')
  const res = await fetch(`${summary.service}/v1/hashes`, { method: 'POST', headers: { authorization: `Bearer ${summary.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ hash }) })
  expect(res.status).toBe(201)
}

const height = async (url: string): Promise<number> => ((await (await fetch(`${url}/status`)).json()) as { height: number }).height

describe('trustnet cluster supervision', () => {
  const started: ChildProcess[] = []
  const seen = new Set<number>()
  let dir = ''

  afterAll(async () => {
    for (const c of started) c.kill('SIGKILL')
    for (const pid of seen) if (alive(pid)) process.kill(pid, 'SIGKILL')
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  it('restarts a killed validator, and after kill -9 of the cluster no child remains and the next start succeeds', async () => {
    dir = await mkdtemp(join(tmpdir(), 'trustnet-supervision-'))
    const basePort = await freePortBase(clusterOffsets(4))
    const stderr: string[] = []
    const { cluster, summary } = await startCluster(join(dir, 'net'), basePort, stderr)
    started.push(cluster)
    const pid = cluster.pid as number
    await anchorOne(summary, 1)
    // What the cluster and its processes wrote is the operator's alone.
    const net = join(dir, 'net')
    for (const [path, want] of [['logs', 0o700], ['logs/node-1.log', 0o600], ['logs/service.log', 0o600], ['node-1/data', 0o700], ['service/data', 0o700]] as const) {
      expect(((await stat(join(net, path))).mode & 0o777).toString(8), path).toBe(want.toString(8))
    }

    // The kernel's OOM killer sends SIGKILL: nothing of our own stop ran.
    const victim = childrenOf(pid).find(c => c.cmd.includes('node-1'))
    expect(victim).toBeDefined()
    process.kill(victim?.pid as number, 'SIGKILL')
    await waitFor('validator 1 restarted', () => stderr.some(l => l.includes('validator 1 restarted')), 30_000)
    expect(stderr.some(l => l.includes('validator 1 exited (signal SIGKILL)'))).toBe(true)
    const replacement = childrenOf(pid).find(c => c.cmd.includes('node-1'))
    expect(replacement?.pid).not.toBe(victim?.pid)
    // The restarted validator takes part again: a new entry commits and its height reaches it.
    await anchorOne(summary, 2)
    const top = Math.max(...await Promise.all(summary.nodes.map(height)))
    await waitFor('validator 1 at the new height', async () => await height(summary.nodes[1] as string) >= top, 30_000)

    const children = childrenOf(pid).map(c => c.pid)
    expect(children).toHaveLength(5)
    for (const p of children) seen.add(p)
    cluster.kill('SIGKILL')
    const t0 = Date.now()
    await waitFor('every child of the killed cluster to exit', () => children.every(p => !alive(p)), 10_000)
    process.stderr.write(`children gone ${Date.now() - t0} ms after kill -9 of the cluster\n`)
    // They stopped as on SIGTERM (store closed), not cut off.
    for (const log of ['node-0.log', 'service.log']) expect(readFileSync(join(net, 'logs', log), 'utf8')).toContain('parent process gone; stopping')

    const again = await startCluster(join(dir, 'net'), basePort, [])
    started.push(again.cluster)
    for (const c of childrenOf(again.cluster.pid as number)) seen.add(c.pid)
    expect(await height(again.summary.nodes[0] as string)).toBeGreaterThanOrEqual(2)
    const exited = new Promise(resolve => again.cluster.once('exit', resolve))
    again.cluster.kill('SIGTERM')
    expect(await exited).toBe(0)
  }, 150_000)
})
