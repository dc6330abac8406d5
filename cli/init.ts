/**
 * `trustnet init`: keys and configuration for a new network on this machine. Writes the genesis
 * (validator public keys, the service's name and public key, parameters), one home directory per
 * validator with its secret seed, and a service configuration with its own secret seed (both
 * readable by the owner only) and a first client API key: the service's config holds only the
 * key's SHA-256; the key itself is handed to the operator (returned, and written to DIR/api-key,
 * readable by the owner only, for `trustnet cluster` to print).
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { defaultEd25519 } from '../consensus/ed25519.js'
import { toJson } from '../consensus/json.js'
import { DEFAULT_PARAMS, GenesisSchema, type Genesis } from '../consensus/types.js'
import { validate } from '../consensus/codec.js'
import { ConfigError } from '../lib/json-file.js'
import { makePrivateDir, writePrivateFile } from '../lib/private-files.js'
import type { NodeConfig } from '../node/config.js'
import { peerIdFromEd25519PublicKey } from '../net/host.js'

export interface InitOptions {
  validators: number
  out: string
  basePort: number
  host: string
  /**
   * Where the validators' operator HTTP API listens. @default '127.0.0.1': the API is public
   * read-only, but a port on a public address is the operator's choice, not the p2p host's.
   * With a placement, each validator's own listen address (containers are reached through it).
   */
  httpHost?: string
  /** Addresses the validators' HTTP rates do not apply to (node.json `http.exempt`); absent: loopback only. */
  httpExempt?: string[]
  chainId?: string
  force?: boolean
  /**
   * Where each process runs when every one has a host of its own (containers, network
   * namespaces): the address it binds and the address or DNS name the others dial. Without it,
   * every process binds and is dialled at `host`.
   */
  placement?: { validators: Placement[], service: Placement }
}

export interface Placement { listen: string, advertise: string }

/** A listen address (IPv4 or a DNS name) as a browser on this machine reaches it: the wildcard on loopback. */
function reachable (host: string): string {
  return host === '0.0.0.0' ? '127.0.0.1' : host
}

/** A TCP multiaddr for an IPv4 address or a DNS name. */
function tcpAddr (host: string, port: number): string {
  return `/${/^\d+\.\d+\.\d+\.\d+$/.test(host) ? 'ip4' : 'dns4'}/${host}/tcp/${port}`
}

/** Where each process of a local network listens, all derived from one base port. */
export function clusterPorts (basePort: number, validators: number): { p2p: number[], http: number[], service: number } {
  return {
    p2p: Array.from({ length: validators }, (_, i) => basePort + i),
    http: Array.from({ length: validators }, (_, i) => basePort + 100 + i),
    service: basePort + 200
  }
}

/** The name the network's one service is registered under. */
export const SERVICE_ID = 'service-1'

export const nodeHome = (dir: string, i: number): string => join(dir, `node-${i}`)
export const serviceConfigPath = (dir: string): string => join(dir, 'service', 'service.json')
export const genesisPath = (dir: string): string => join(dir, 'genesis.json')
/** The first client's API key, for the operator to hand on: the service itself holds only its hash. */
export const apiKeyPath = (dir: string): string => join(dir, 'api-key')

/** The key `init` wrote to DIR/api-key. */
export async function readApiKey (dir: string): Promise<string> {
  const file = apiKeyPath(dir)
  const key = await readFile(file, 'utf8').then(text => text.trim(), () => '')
  if (key === '') throw new ConfigError('CONFIG_UNREADABLE', `${file} is missing or empty: the service's config holds only hashes of API keys, so the key cannot be read back from it`, { file })
  return key
}

/** An API key as the service config holds it: its SHA-256, lowercase hex. */
export function apiKeySha256 (key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

export async function initNetwork (options: InitOptions): Promise<{ genesis: Genesis, apiKey: string }> {
  const { validators: n, out, basePort, host } = options
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new ConfigError('INVALID_FIELD', '--validators must be an integer from 1 to 100')
  if (options.force !== true && await exists(genesisPath(out))) throw new ConfigError('INVALID_FIELD', `${out} already holds a network; use --force to overwrite it`)
  const seeds = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)))
  // The service's libp2p identity doubles as the key its submissions are signed with.
  const serviceSeed = new Uint8Array(randomBytes(32))
  const genesis = validate(GenesisSchema, {
    chainId: options.chainId ?? `trustnet-${randomBytes(4).toString('hex')}`,
    genesisTime: Date.now(),
    validators: seeds.map((s, i) => ({ name: `validator-${i}`, publicKey: defaultEd25519.publicKey(s) })),
    services: [{ name: SERVICE_ID, publicKey: defaultEd25519.publicKey(serviceSeed) }],
    params: DEFAULT_PARAMS
  })
  if (options.placement !== undefined && options.placement.validators.length !== n) throw new ConfigError('INVALID_FIELD', `placement names ${options.placement.validators.length} validators, not ${n}`)
  const at = (i: number): Placement => options.placement?.validators[i] ?? { listen: host, advertise: host }
  const httpHost = (i: number): string => options.httpHost ?? (options.placement !== undefined ? at(i).listen : '127.0.0.1')
  const serviceAt = options.placement?.service ?? { listen: host, advertise: host }
  const ports = clusterPorts(basePort, n)
  const peerIds = genesis.validators.map(v => peerIdFromEd25519PublicKey(v.publicKey))
  const p2p = ports.p2p.map((port, i) => `${tcpAddr(at(i).advertise, port)}/p2p/${peerIds[i]}`)

  await makePrivateDir(out, { keepExisting: true })
  await writeFile(genesisPath(out), JSON.stringify(toJson(genesis), null, 2) + '\n')
  for (let i = 0; i < n; i++) {
    const config: NodeConfig = {
      index: i,
      seed: Buffer.from(seeds[i] as Uint8Array).toString('hex'),
      listen: tcpAddr(at(i).listen, ports.p2p[i] as number),
      http: { host: httpHost(i), port: ports.http[i] as number, ...(options.httpExempt !== undefined ? { exempt: options.httpExempt } : {}) },
      peers: p2p.filter((_, j) => j !== i),
      genesis: '../genesis.json',
      dataDir: 'data'
    }
    await makePrivateDir(nodeHome(out, i))
    await writePrivateFile(join(nodeHome(out, i), 'node.json'), JSON.stringify(config, null, 2) + '\n')
  }
  const apiKey = randomBytes(24).toString('base64url')
  const service = {
    serviceId: SERVICE_ID,
    seed: Buffer.from(serviceSeed).toString('hex'),
    // On one machine, the service points people at validator 0's explorer page.
    http: { host: serviceAt.listen, port: ports.service, ...(options.placement === undefined ? { explorerUrl: `http://${reachable(httpHost(0))}:${ports.http[0] as number}/explorer` } : {}) },
    dataDir: 'data',
    genesisPath: '../genesis.json',
    nodes: p2p,
    apiKeys: [{ keySha256: apiKeySha256(apiKey), client: 'client-1' }]
  }
  await makePrivateDir(join(out, 'service'))
  await writePrivateFile(serviceConfigPath(out), JSON.stringify(service, null, 2) + '\n')
  await writePrivateFile(apiKeyPath(out), apiKey + '\n')
  return { genesis, apiKey }
}
