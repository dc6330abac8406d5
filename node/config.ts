/**
 * A validator's home directory: `node.json` (its index, secret seed or the key file holding it,
 * listen address, HTTP port, peers) next to the network's `genesis.json`. Read once at start,
 * checked with a schema, and refused with a clear typed error when anything is missing or
 * malformed; a sealed key without its passphrase, or with a wrong one, stops the node before it
 * opens anything.
 */
import { dirname, resolve } from 'node:path'
import { z } from 'zod'
import { genesisFromJson } from '../consensus/json.js'
import type { Genesis } from '../consensus/types.js'
import { ConfigError, loadJsonFile, type ConfigCodes } from '../lib/json-file.js'
import { isAddressOrSubnet, isLoopback } from '../lib/http-door.js'
import { readSeedFile } from '../lib/sealed-key.js'

const RateSchema = z.strictObject({ max: z.number().int().min(1), windowMs: z.number().int().min(100).max(24 * 3600_000) })

export const NodeConfigSchema = z.strictObject({
  index: z.number().int().nonnegative(),
  /** 32-byte ed25519 seed, hex: the validator key and the libp2p identity. Either this or `keyFile`. */
  seed: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters').optional(),
  /** The key file holding the seed, clear or sealed with a passphrase (as `trustnet keygen` writes it), relative to the home. */
  keyFile: z.string().min(1).optional(),
  /** A file whose content is the sealed key's passphrase, relative to the home; absent: TRUSTNET_KEY_PASSPHRASE. */
  keyPassphraseFile: z.string().min(1).optional(),
  listen: z.string().startsWith('/'),
  /** The operator HTTP API; its door's limits default to NODE_HTTP_DEFAULTS (node/http-api.ts). */
  http: z.strictObject({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535),
    /** Requests per address per window, every route. */
    rate: RateSchema.optional(),
    /** GET /blocks/:height (a whole block) per address per window, on top of `rate`. */
    blockRate: RateSchema.optional(),
    /** Addresses and CIDR subnets that skip the two rates (this machine's own tools); absent: loopback. */
    exempt: z.array(z.string().refine(isAddressOrSubnet, { message: 'must be an IP address or a subnet such as 10.0.0.0/8' })).max(1000).optional(),
    /** Connections open at once; beyond it new ones are closed at once. */
    maxConnections: z.number().int().min(1).max(1_000_000).optional(),
    headersTimeoutMs: z.number().int().min(100).max(10 * 60_000).optional(),
    requestTimeoutMs: z.number().int().min(100).max(60 * 60_000).optional(),
    keepAliveTimeoutMs: z.number().int().min(100).max(10 * 60_000).optional()
  }).refine(h => h.headersTimeoutMs === undefined || h.requestTimeoutMs === undefined || h.headersTimeoutMs <= h.requestTimeoutMs, { message: 'headersTimeoutMs must not exceed requestTimeoutMs', path: ['headersTimeoutMs'] }),
  /** Multiaddrs of the other validators, each ending in /p2p/<peer id>. */
  peers: z.array(z.string().startsWith('/')),
  /**
   * Addresses (/ip4/<ip>, /ip6/<ip>, optionally with /ipcidr/<bits>) of the hosts the registered
   * services connect from: like the validators' own IPs, they bypass the limits on pending
   * handshakes and new connections per second that strangers share (net/host.ts).
   */
  allow: z.array(z.string().regex(/^\/ip[46]\//, 'must start with /ip4/ or /ip6/')).optional(),
  /** Relative to the home directory. */
  genesis: z.string().default('../genesis.json'),
  dataDir: z.string().default('data')
}).refine(c => (c.seed === undefined) !== (c.keyFile === undefined), { message: 'give either seed or keyFile, not both', path: ['seed'] })
export type NodeConfig = z.infer<typeof NodeConfigSchema>

export interface LoadedNodeConfig {
  home: string
  config: NodeConfig
  genesis: Genesis
  seed: Uint8Array
  dataDir: string
}

/** Every problem with the genesis file, missing included, is one code: the file is the network's. */
const GENESIS_CODES: ConfigCodes = { unreadable: 'GENESIS_INVALID', invalid: 'GENESIS_INVALID' }

export async function readGenesis (path: string): Promise<Genesis> {
  return await loadJsonFile(path, genesisFromJson, GENESIS_CODES)
}

export async function loadNodeConfig (home: string): Promise<LoadedNodeConfig> {
  const file = resolve(home, 'node.json')
  const config = await loadJsonFile(file, NodeConfigSchema)
  const genesis = await readGenesis(resolve(dirname(file), config.genesis))
  if (config.index >= genesis.validators.length) {
    throw new ConfigError('CONFIG_INVALID', `${file}: index ${config.index} is not a validator of the genesis`, { file, path: 'index' })
  }
  const seed = config.seed !== undefined
    ? new Uint8Array(Buffer.from(config.seed, 'hex'))
    : readSeedFile(resolve(home, config.keyFile as string), {
      ...(config.keyPassphraseFile !== undefined ? { file: resolve(home, config.keyPassphraseFile) } : {})
    })
  return { home, config, genesis, seed, dataDir: resolve(home, config.dataDir) }
}

/**
 * POST /admin/links (fault injection, for tests) cuts a validator off its peers and has no key:
 * it may only be reachable from this machine.
 */
export function checkFaultInjection (config: NodeConfig, home: string, enabled = process.env.TRUSTNET_FAULT_INJECTION === '1'): void {
  if (enabled && !isLoopback(config.http.host)) {
    const file = resolve(home, 'node.json')
    throw new ConfigError('CONFIG_INVALID', `${file}: TRUSTNET_FAULT_INJECTION=1 serves POST /admin/links without authentication, so http.host must be a loopback address, not ${config.http.host}`, { file, path: 'http.host' })
  }
}
