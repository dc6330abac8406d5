/**
 * `trustnet cluster`: a whole local network on one machine: N validator processes and a service
 * process on loopback, created on first run and restarted on the same data afterwards. Each child
 * announces readiness with a JSON line on stdout; its logs go to DIR/logs. A child that dies
 * unexpectedly is restarted (cli/supervisor.ts). Ctrl-C stops them all; if the cluster itself is
 * killed, each child sees its stdin pipe close and stops on its own.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, readFileSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { genesisPath, initNetwork, nodeHome, readApiKey, serviceConfigPath } from './init.js'
import { PARENT_PIPE_ENV, stopOnSignal } from '../lib/signals.js'
import { makePrivateDir, openPrivateAppend } from '../lib/private-files.js'
import { Supervised } from './supervisor.js'

export interface ClusterOptions {
  validators: number
  dir: string
  basePort: number
  json: boolean
}

export interface ReadyLine { event: 'ready', role: 'node' | 'service', http?: string, url?: string, index?: number }

/** The compiled CLI; tests import this module as TypeScript source, so then look in dist/. */
export const CLI_PATH = fileURLToPath(import.meta.url.endsWith('.ts') ? new URL('../dist/cli/main.js', import.meta.url) : new URL('./main.js', import.meta.url))
const READY_TIMEOUT_MS = 60_000
/**
 * Old-generation heap per child, MiB. Under load V8 lets garbage pile up to far beyond the live
 * heap (tens of MiB) before a full collection; a cap makes it collect sooner and keeps resident
 * memory near 200 MiB instead of 400+. The service holds the outbox's queue in memory: more room.
 */
const HEAP_MIB = { node: 256, service: 512 } as const

/**
 * Start a trustnet child process and resolve with its ready line. `prefix` runs it through
 * another command that execs it in place (e.g. `ip netns exec NS`), so the child is still the node.
 * The child's stdin is a pipe this process holds: when this process ends, however, the child
 * reads its end and stops (PARENT_PIPE_ENV). A child not ready in time is killed.
 */
export async function spawnChild (args: string[], logFile: string, env: Record<string, string> = {}, prefix: string[] = []): Promise<{ child: ChildProcess, ready: ReadyLine }> {
  // TRUSTNET_EXEC_ARGV passes Node flags NODE_OPTIONS refuses (e.g. --cpu-prof) to every child.
  const execArgv = (env.TRUSTNET_EXEC_ARGV ?? process.env.TRUSTNET_EXEC_ARGV ?? '').split(' ').filter(a => a !== '')
  const role = args[0] === 'service' ? 'service' : 'node'
  if (!execArgv.some(a => a.startsWith('--max-old-space-size'))) execArgv.unshift(`--max-old-space-size=${HEAP_MIB[role]}`)
  // The child writes its logs straight into the file: piped through a busy parent, a full pipe would block the child's writes.
  const log = openPrivateAppend(logFile)
  const [command, ...before] = [...prefix, process.execPath]
  const child = spawn(command as string, [...before, ...execArgv, CLI_PATH, ...args], { stdio: ['pipe', 'pipe', log], env: { ...process.env, [PARENT_PIPE_ENV]: '1', ...env } })
  closeSync(log)
  // Nothing is written on it; a pipe closing as the child exits must not become an unhandled error here.
  child.stdin?.on('error', () => {})
  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${args.join(' ')} not ready after ${READY_TIMEOUT_MS} ms; see ${logFile}`))
    }, READY_TIMEOUT_MS)
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    lines.on('line', line => {
      try {
        const parsed = JSON.parse(line) as ReadyLine
        if (parsed.event === 'ready') { clearTimeout(timer); resolve(parsed) }
      } catch { /* an ordinary output line */ }
    })
    child.once('exit', code => {
      clearTimeout(timer)
      reject(new Error(`${args.join(' ')} exited with ${code}; see ${logFile}: ${lastLines(logFile)}`))
    })
  })
  // Keep reading stdout so a later write can never fill the pipe.
  child.stdout?.resume()
  return { child, ready }
}

/** The end of a child's log, for an error message worth reading. */
function lastLines (file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ').slice(-800)
  } catch {
    return '(no log)'
  }
}

async function existingValidators (dir: string): Promise<number> {
  const entries = await readdir(dir).catch(() => [] as string[])
  return entries.filter(e => /^node-\d+$/.test(e)).length
}

export async function runCluster (options: ClusterOptions): Promise<void> {
  const dir = resolve(options.dir)
  const fresh = !(await stat(genesisPath(dir)).then(() => true, () => false))
  if (fresh) {
    await initNetwork({ validators: options.validators, out: dir, basePort: options.basePort, host: '127.0.0.1' })
  } else {
    const have = await existingValidators(dir)
    if (have !== options.validators) process.stderr.write(`note: ${dir} holds a network of ${have} validators; starting those\n`)
  }
  const n = await existingValidators(dir)
  await makePrivateDir(join(dir, 'logs'))

  const log = (line: string): void => { process.stderr.write(`trustnet cluster: ${line}\n`) }
  const supervise = (name: string, args: string[], logFile: string, onReady: (ready: ReadyLine) => void = () => {}): Supervised =>
    new Supervised(name, async () => {
      const started = await spawnChild(args, join(dir, 'logs', logFile))
      onReady(started.ready)
      return started.child
    }, log)
  const nodes: string[] = []
  let serviceUrl = ''
  const supervised = [
    ...Array.from({ length: n }, (_, i) => supervise(`validator ${i}`, ['node', '--home', nodeHome(dir, i)], `node-${i}.log`, ready => { nodes[i] = ready.http as string })),
    supervise('service', ['service', '--config', serviceConfigPath(dir)], 'service.log', ready => { serviceUrl = ready.url as string })
  ]
  const stopAll = async (): Promise<void> => { await Promise.all(supervised.map(async s => { await s.stop() })) }
  stopOnSignal(stopAll, 'stopping the cluster...')

  try {
    // Validators first: the service dials them as it starts.
    await Promise.all(supervised.slice(0, n).map(async s => { await s.begin() }))
    await supervised[n]?.begin()
    const apiKey = await readApiKey(dir)
    const summary = { service: serviceUrl, apiKey, genesis: genesisPath(dir), nodes }
    if (options.json) {
      process.stdout.write(JSON.stringify(summary) + '\n')
    } else {
      process.stdout.write([
        `trustnet cluster: ${n} validators and a service${fresh ? ' (new network)' : ' (restarted on existing data)'}`,
        `  service:  ${summary.service}`,
        `  api key:  ${summary.apiKey}`,
        `  try:      curl -s -H 'Authorization: Bearer ${summary.apiKey}' ${summary.service}/v1/status`,
        `  genesis:  ${summary.genesis}`,
        `  nodes:    ${nodes.join(' ')}`,
        `  logs:     ${join(dir, 'logs')}`,
        'Ctrl-C stops it; running it again restarts on the same data.',
        ''
      ].join('\n'))
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}
