/**
 * A network of real processes for end-to-end tests: validators and a service started from the
 * compiled CLI on a free port block, each process startable, stoppable (SIGTERM), killable
 * (SIGKILL), freezable (SIGSTOP/SIGCONT) on its own. `destroy()` kills everything and removes the
 * directory, whatever state the test left it in.
 */
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI_PATH, spawnChild } from './cluster.js'
import { readGenesis } from '../node/config.js'
import { apiKeySha256, clusterPorts, genesisPath, initNetwork, nodeHome, serviceConfigPath } from './init.js'
import type { Genesis } from '../consensus/types.js'
import { clusterOffsets, freePortBase } from './free-ports.js'

export interface ClusterOptions {
  validators?: number
  /** Extra client keys: [{ key, client }]; the service config gets their hashes. */
  extraApiKeys?: Array<{ key: string, client: string }>
  /** Extra service config fields (limits, waits). */
  serviceConfig?: Record<string, unknown>
  env?: Record<string, string>
}

export class ProcessCluster {
  readonly nodes: Array<ChildProcess | undefined> = []
  service: ChildProcess | undefined
  serviceUrl = ''
  nodeUrls: string[] = []

  private constructor (readonly dir: string, readonly n: number, readonly apiKey: string, readonly genesis: Genesis, private readonly env: Record<string, string>) {}

  static async create (options: ClusterOptions = {}): Promise<ProcessCluster> {
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`)
    const n = options.validators ?? 4
    const dir = await mkdtemp(join(tmpdir(), 'trustnet-e2e-'))
    const basePort = await freePortBase(clusterOffsets(n))
    const { apiKey } = await initNetwork({ validators: n, out: dir, basePort, host: '127.0.0.1', chainId: 'e2e-test' })
    const configFile = serviceConfigPath(dir)
    const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown> & { apiKeys: unknown[] }
    await writeFile(configFile, JSON.stringify({ ...config, ...options.serviceConfig, apiKeys: [...config.apiKeys, ...(options.extraApiKeys ?? []).map(k => ({ keySha256: apiKeySha256(k.key), client: k.client }))] }, null, 2))
    await mkdir(join(dir, 'logs'), { recursive: true })
    const cluster = new ProcessCluster(dir, n, apiKey, await readGenesis(genesisPath(dir)), { TRUSTNET_LOG: 'info', ...options.env })
    cluster.nodeUrls = clusterPorts(basePort, n).http.map(p => `http://127.0.0.1:${p}`)
    return cluster
  }

  get genesisFile (): string { return genesisPath(this.dir) }
  get serviceDataDir (): string { return join(this.dir, 'service', 'data') }

  async startNode (i: number): Promise<void> {
    const { child } = await spawnChild(['node', '--home', nodeHome(this.dir, i)], join(this.dir, 'logs', `node-${i}.log`), this.env)
    this.nodes[i] = child
  }

  async startNodes (): Promise<void> {
    await Promise.all(Array.from({ length: this.n }, async (_, i) => await this.startNode(i)))
  }

  async startService (): Promise<void> {
    const { child, ready } = await spawnChild(['service', '--config', serviceConfigPath(this.dir)], join(this.dir, 'logs', 'service.log'), this.env)
    this.service = child
    this.serviceUrl = ready.url as string
  }

  async stopNode (i: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stopProcess(this.nodes[i], signal)
    this.nodes[i] = undefined
  }

  async stopService (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stopProcess(this.service, signal)
    this.service = undefined
  }

  async destroy (): Promise<void> {
    const all = [...this.nodes, this.service]
    for (const p of all) if (p !== undefined && p.exitCode === null) p.kill('SIGCONT')
    await Promise.all(all.map(async p => await stopProcess(p, 'SIGKILL')))
    if (process.env.KEEP_E2E_DIR === undefined) await rm(this.dir, { recursive: true, force: true })
  }
}

async function stopProcess (p: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (p === undefined || p.exitCode !== null || p.signalCode !== null) return
  const exited = new Promise(resolve => p.once('exit', resolve))
  p.kill(signal)
  await exited
}
