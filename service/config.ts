/**
 * The service's configuration: a JSON file checked against one schema that also supplies the
 * defaults. Paths in the file are relative to the file itself, so a config directory can be moved
 * as a whole. Every problem (missing file, bad JSON, bad field, bad genesis) is a ConfigError
 * with a stable code and the path of the offending field.
 */
import { dirname, resolve } from 'node:path'
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
import { genesisFromJson } from '../consensus/json.js'
import { fromHex } from '../consensus/ids.js'
import { LIMITS } from '../consensus/limits.js'
import { MAX_BATCH } from '../protocol/node-api.js'
import { boundedText } from '../consensus/types.js'
import type { Genesis } from '../consensus/types.js'
import { checkJson, loadJsonFile, readJsonFile, type ConfigCodes } from '../lib/json-file.js'

const MiB = 1024 * 1024
/** Every problem with the genesis file, missing included, is one code: the file is the network's, not the operator's. */
const GENESIS_CODES: ConfigCodes = { unreadable: 'GENESIS_INVALID', invalid: 'GENESIS_INVALID' }

const nonEmpty = (maxBytes: number) => boundedText(maxBytes).refine(s => s.length > 0, { message: 'must not be empty' })

/** A node address must name its peer: that is how the service knows which validator answers. */
const nodeAddress = z.string().refine(s => {
  try {
    return multiaddr(s).getComponents().some(c => c.code === CODE_P2P)
  } catch {
    return false
  }
}, { message: 'must be a multiaddr ending in /p2p/<peerId>' })

export const ApiKeySchema = z.strictObject({
  // Long enough that guessing is hopeless; trustnet init generates 24 random bytes, base64url.
  key: z.string().min(16).max(256).regex(/^[\x21-\x7e]+$/, { message: 'must be printable ASCII without spaces' }),
  /** The client id: the owner of the items stored with this key. Several keys may name one client. */
  client: nonEmpty(LIMITS.ownerChars)
})
export type ApiKey = z.infer<typeof ApiKeySchema>

export const ServiceConfigSchema = z.strictObject({
  serviceId: nonEmpty(LIMITS.serviceIdChars),
  /** The service's libp2p identity key (32-byte ed25519 seed as hex). */
  seed: z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lowercase hex characters' }).transform(fromHex),
  http: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535)
  }),
  dataDir: z.string().min(1),
  genesisPath: z.string().min(1),
  nodes: z.array(nodeAddress).min(1).max(LIMITS.validatorsCeiling),
  apiKeys: z.array(ApiKeySchema).min(1)
    .refine(keys => new Set(keys.map(k => k.key)).size === keys.length, { message: 'keys must be distinct' }),
  limits: z.strictObject({
    maxBodyBytes: z.number().int().min(1).max(1024 * MiB).default(10 * MiB),
    maxBatch: z.number().int().min(1).max(MAX_BATCH).default(MAX_BATCH)
  }).prefault({}),
  /** How long POST /v1/data holds the answer waiting for the certificate before answering 202. */
  certificateWaitMs: z.number().int().min(0).max(10 * 60_000).default(30_000)
})

/** The config as used by the service (seed as bytes, defaults filled in). */
export type ServiceConfig = z.output<typeof ServiceConfigSchema>
/** The config as written in the JSON file. */
export type ServiceConfigJson = z.input<typeof ServiceConfigSchema>

/** Check a parsed JSON value; relative paths are resolved against `baseDir` (default: the working directory). */
export function parseConfig (json: unknown, baseDir: string = process.cwd()): ServiceConfig {
  const config = checkJson(json, ServiceConfigSchema, 'config')
  return { ...config, dataDir: resolve(baseDir, config.dataDir), genesisPath: resolve(baseDir, config.genesisPath) }
}

export async function loadConfig (file: string): Promise<ServiceConfig> {
  return parseConfig(await readJsonFile(file), dirname(resolve(file)))
}

/** The network's genesis in its JSON form (byte fields as hex), as written by the cluster tooling. */
export async function loadGenesis (file: string): Promise<Genesis> {
  return await loadJsonFile(file, genesisFromJson, GENESIS_CODES)
}
