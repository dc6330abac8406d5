/**
 * A validator's home directory: `node.json` (its index, secret seed, listen address, HTTP port,
 * peers) next to the network's `genesis.json`. Read once at start, checked with a schema, and
 * refused with a clear typed error when anything is missing or malformed.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { z } from 'zod'
import { genesisFromJson } from '../consensus/json.js'
import type { Genesis } from '../consensus/types.js'
import { TrustnetError } from '../consensus/errors.js'

export const NodeConfigSchema = z.strictObject({
  index: z.number().int().nonnegative(),
  /** 32-byte ed25519 seed, hex: the validator key and the libp2p identity. */
  seed: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters'),
  listen: z.string().startsWith('/'),
  http: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535) }),
  /** Multiaddrs of the other validators, each ending in /p2p/<peer id>. */
  peers: z.array(z.string().startsWith('/')),
  /** Relative to the home directory. */
  genesis: z.string().default('../genesis.json'),
  dataDir: z.string().default('data')
})
export type NodeConfig = z.infer<typeof NodeConfigSchema>

export class ConfigError extends TrustnetError {
  override readonly name = 'ConfigError'
}

export interface LoadedNodeConfig {
  home: string
  config: NodeConfig
  genesis: Genesis
  seed: Uint8Array
  dataDir: string
}

export async function readJsonFile (path: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new ConfigError('INVALID_FIELD', `cannot read ${path}: ${(err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new ConfigError('MALFORMED', `${path} is not valid JSON: ${(err as Error).message}`)
  }
}

export async function readGenesis (path: string): Promise<Genesis> {
  try {
    return genesisFromJson(await readJsonFile(path))
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError('INVALID_GENESIS', `${path}: ${(err as Error).message}`)
  }
}

export async function loadNodeConfig (home: string): Promise<LoadedNodeConfig> {
  const file = resolve(home, 'node.json')
  const parsed = NodeConfigSchema.safeParse(await readJsonFile(file))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ConfigError('INVALID_FIELD', `${file}: ${issue?.path.join('.')}: ${issue?.message}`)
  }
  const config = parsed.data
  const genesis = await readGenesis(resolve(dirname(file), config.genesis))
  if (config.index >= genesis.validators.length) throw new ConfigError('UNKNOWN_VALIDATOR', `${file}: index ${config.index} is not a validator of the genesis`)
  return { home, config, genesis, seed: Buffer.from(config.seed, 'hex'), dataDir: resolve(home, config.dataDir) }
}
