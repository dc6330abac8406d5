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
import { displayText } from '../consensus/types.js'
import type { Genesis } from '../consensus/types.js'
import { checkJson, loadJsonFile, readJsonFile, type ConfigCodes } from '../lib/json-file.js'
import { readSeedFile } from '../lib/sealed-key.js'

const MiB = 1024 * 1024
/** Every problem with the genesis file, missing included, is one code: the file is the network's, not the operator's. */
const GENESIS_CODES: ConfigCodes = { unreadable: 'GENESIS_INVALID', invalid: 'GENESIS_INVALID' }

const displayName = (maxBytes: number) => displayText(maxBytes).refine(s => s.length > 0, { message: 'must not be empty' })

/** A node address must name its peer: that is how the service knows which validator answers. */
const nodeAddress = z.string().refine(s => {
  try {
    return multiaddr(s).getComponents().some(c => c.code === CODE_P2P)
  } catch {
    return false
  }
}, { message: 'must be a multiaddr ending in /p2p/<peerId>' })

/** What an operator runs to turn a key into its configured hash. */
export const HASH_A_KEY = 'printf %s "$KEY" | sha256sum'

export const ApiKeySchema = z.strictObject({
  // A key in clear is refused by name, so the operator learns what to write instead.
  key: z.undefined({ error: `API keys are stored only as hashes: replace "key" with "keySha256", the SHA-256 of the key in lowercase hex (${HASH_A_KEY})` }).optional(),
  /** SHA-256 of the key (the bearer token clients send), lowercase hex: the key itself is never stored. */
  keySha256: z.string().regex(/^[0-9a-f]{64}$/, { message: `must be the SHA-256 of the key as 64 lowercase hex characters (${HASH_A_KEY})` }),
  /** The client id: the owner of the items stored with this key. Several keys may name one client. */
  client: displayName(LIMITS.ownerChars)
}).transform(({ keySha256, client }) => ({ keySha256, client }))
export type ApiKey = z.infer<typeof ApiKeySchema>

export const ServiceConfigSchema = z.strictObject({
  serviceId: displayName(LIMITS.serviceIdChars),
  /** The service's libp2p identity key (32-byte ed25519 seed as hex). Either this or `keyFile`. */
  seed: z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lowercase hex characters' }).transform(fromHex).optional(),
  /** The key file holding the seed, clear or sealed with a passphrase (as `trustnet keygen` writes it), relative to the config file. */
  keyFile: z.string().min(1).optional(),
  /** A file whose content is the sealed key's passphrase, relative to the config file; absent: TRUSTNET_KEY_PASSPHRASE. */
  keyPassphraseFile: z.string().min(1).optional(),
  http: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535),
    /** Serve HTTPS from these PEM files (paths relative to the config file); absent: plain HTTP (behind a TLS proxy). */
    tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    /** Browser origins allowed to call the API (CORS), e.g. the explorer's; "*" allows any. Absent: none. */
    corsOrigins: z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, { message: 'must be "*" or an origin such as https://explorer.example' })).max(100).default([]),
    /** Connections open at once; beyond it new ones are closed at once. */
    maxConnections: z.number().int().min(1).max(1_000_000).default(1024),
    /** Time for a request's headers to arrive. */
    headersTimeoutMs: z.number().int().min(100).max(10 * 60_000).default(10_000),
    /** Time for a whole request (headers and body) to arrive: a trickling upload is cut. Not the answer's wait. */
    requestTimeoutMs: z.number().int().min(100).max(60 * 60_000).default(120_000),
    /** How long an idle keep-alive connection stays open. */
    keepAliveTimeoutMs: z.number().int().min(100).max(10 * 60_000).default(5_000),
    /** Where people find the network's explorer page (a validator's /explorer): named in GET /v1/health. */
    explorerUrl: z.string().max(2048).regex(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL' }).optional()
  }).refine(h => h.headersTimeoutMs <= h.requestTimeoutMs, { message: 'headersTimeoutMs must not exceed requestTimeoutMs', path: ['headersTimeoutMs'] }),
  dataDir: z.string().min(1),
  genesisPath: z.string().min(1),
  nodes: z.array(nodeAddress).min(1).max(LIMITS.validatorsCeiling),
  apiKeys: z.array(ApiKeySchema).min(1)
    .refine(keys => new Set(keys.map(k => k.keySha256)).size === keys.length, { message: 'keys must be distinct' }),
  limits: z.strictObject({
    maxBodyBytes: z.number().int().min(1).max(1024 * MiB).default(10 * MiB),
    maxBatch: z.number().int().min(1).max(MAX_BATCH).default(MAX_BATCH),
    /** Requests per client (per IP before authentication) in each window; beyond: 429 with Retry-After. */
    rate: z.strictObject({
      max: z.number().int().min(1).default(120_000),
      windowMs: z.number().int().min(100).max(24 * 3_600_000).default(60_000)
    }).prefault({}),
    /** Requests of one client handled at once; more wait their turn, so one client's load cannot fill the service. */
    inFlightPerClient: z.number().int().min(1).max(100_000).default(64),
    /** Requests of one client waiting for a turn; beyond: 429. */
    queuedPerClient: z.number().int().min(0).max(1_000_000).default(1024),
    /**
     * Records of one client stored and not yet certified (or failed); a request that would pass
     * it gets 429 with Retry-After, so a burst of batches is refused rather than queued in front
     * of everyone. Twenty full batches by default.
     */
    pendingPerClient: z.number().int().min(1).max(100_000_000).default(20_000),
    /** Failed authentications per IP in each window; beyond, every request from that IP gets 429 until the window ends. */
    authFailures: z.strictObject({
      max: z.number().int().min(1).default(20),
      windowMs: z.number().int().min(100).max(24 * 3_600_000).default(60_000)
    }).prefault({})
  }).prefault({}),
  /** How long POST /v1/data holds the answer waiting for the certificate before answering 202. */
  certificateWaitMs: z.number().int().min(0).max(10 * 60_000).default(30_000)
}).refine(c => (c.seed === undefined) !== (c.keyFile === undefined), { message: 'give either seed or keyFile, not both', path: ['seed'] })

/** The config as used by the service (seed as bytes, read from its key file if need be; defaults filled in). */
export type ServiceConfig = Omit<z.output<typeof ServiceConfigSchema>, 'seed' | 'keyFile' | 'keyPassphraseFile'> & { seed: Uint8Array }
/** The config as written in the JSON file. */
export type ServiceConfigJson = z.input<typeof ServiceConfigSchema>

/**
 * Check a parsed JSON value; relative paths are resolved against `baseDir` (default: the working
 * directory). A key file is read here, and a sealed one opened (KEY_PASSPHRASE_MISSING,
 * KEY_PASSPHRASE_WRONG, KEY_TAMPERED), so a service that cannot have its key never starts.
 */
export function parseConfig (json: unknown, baseDir: string = process.cwd()): ServiceConfig {
  const { seed, keyFile, keyPassphraseFile, ...config } = checkJson(json, ServiceConfigSchema, 'config')
  const tls = config.http.tls === undefined ? undefined : { certFile: resolve(baseDir, config.http.tls.certFile), keyFile: resolve(baseDir, config.http.tls.keyFile) }
  const key = seed ?? readSeedFile(resolve(baseDir, keyFile as string), keyPassphraseFile !== undefined ? { file: resolve(baseDir, keyPassphraseFile) } : {})
  return { ...config, seed: key, http: { ...config.http, tls }, dataDir: resolve(baseDir, config.dataDir), genesisPath: resolve(baseDir, config.genesisPath) }
}

export async function loadConfig (file: string): Promise<ServiceConfig> {
  return parseConfig(await readJsonFile(file), dirname(resolve(file)))
}

/** The network's genesis in its JSON form (byte fields as hex), as written by the cluster tooling. */
export async function loadGenesis (file: string): Promise<Genesis> {
  return await loadJsonFile(file, genesisFromJson, GENESIS_CODES)
}
