/**
 * The service config file: defaults are filled in, paths are relative to the file, and every
 * kind of bad file (missing, not JSON, bad field, bad genesis) is a ConfigError with a stable
 * code; startService refuses a bad genesis, or one that does not register the service's name
 * with its seed's key, without leaving anything running. API keys are configured as hashes only.
 */
import '../../lib/promise-shim.js'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { peerIdFromEd25519PublicKey } from '../../net/host.js'
import { loadConfig, loadGenesis, parseConfig, type ServiceConfigJson } from '../../service/config.js'
import { startService } from '../../service/main.js'
import { toJsonText } from '../../consensus/json.js'
import { DEFAULT_PARAMS } from '../../consensus/types.js'
import { apiKeyPath, initNetwork, readApiKey, serviceConfigPath } from '../../cli/init.js'

const PEER = peerIdFromEd25519PublicKey(defaultEd25519.publicKey(new Uint8Array(32).fill(7)))

const valid = (): ServiceConfigJson => ({
  serviceId: 'svc',
  seed: 'ab'.repeat(32),
  http: { port: 8080 },
  dataDir: 'data',
  genesisPath: 'genesis.json',
  nodes: [`/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`],
  apiKeys: [{ keySha256: 'ab'.repeat(32), client: 'alice' }]
})

async function refusal (p: Promise<unknown> | (() => unknown)): Promise<{ name: string, code: string, path?: unknown }> {
  try {
    if (typeof p === 'function') p()
    else await p
  } catch (err) {
    const e = err as { name: string, code: string, details?: { path?: unknown } }
    return { name: e.name, code: e.code, ...(e.details?.path !== undefined ? { path: e.details.path } : {}) }
  }
  throw new Error('expected a refusal')
}

describe('service config', () => {
  let dir: string

  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'trustnet-config-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('fills in defaults and turns the seed into bytes', () => {
    const config = parseConfig(valid(), '/etc/trustnet')
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080, corsOrigins: [], maxConnections: 1024, headersTimeoutMs: 10_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 5_000 })
    expect(config.limits).toEqual({
      maxBodyBytes: 10 * 1024 * 1024,
      maxBatch: 1000,
      rate: { max: 120_000, windowMs: 60_000 },
      inFlightPerClient: 64,
      queuedPerClient: 1024,
      pendingPerClient: 20_000,
      authFailures: { max: 20, windowMs: 60_000 }
    })
    expect(config.certificateWaitMs).toBe(30_000)
    expect(config.seed).toEqual(new Uint8Array(32).fill(0xab))
    expect(config.dataDir).toBe('/etc/trustnet/data')
    expect(config.genesisPath).toBe('/etc/trustnet/genesis.json')
  })

  it('refuses bad fields with CONFIG_INVALID and the field path', async () => {
    const bad = (patch: Record<string, unknown>) => async () => await refusal(() => parseConfig({ ...valid(), ...patch }))
    expect(await bad({ seed: 'AB'.repeat(32) })()).toEqual({ name: 'ConfigError', code: 'CONFIG_INVALID', path: 'seed' })
    expect(await bad({ nodes: ['/ip4/127.0.0.1/tcp/4001'] })()).toEqual({ name: 'ConfigError', code: 'CONFIG_INVALID', path: 'nodes.0' })
    expect(await bad({ nodes: ['not an address'] })()).toMatchObject({ code: 'CONFIG_INVALID', path: 'nodes.0' })
    expect(await bad({ nodes: [] })()).toMatchObject({ code: 'CONFIG_INVALID', path: 'nodes' })
    // A key in clear is refused by name (the message says how to hash it), whatever else the entry holds.
    expect(await bad({ apiKeys: [{ key: 'k'.repeat(32), client: 'a' }] })()).toMatchObject({ code: 'CONFIG_INVALID', path: 'apiKeys.0.key' })
    expect(await bad({ apiKeys: [{ key: 'k'.repeat(32), keySha256: 'ab'.repeat(32), client: 'a' }] })()).toMatchObject({ code: 'CONFIG_INVALID', path: 'apiKeys.0.key' })
    expect(await bad({ apiKeys: [{ keySha256: 'AB'.repeat(32), client: 'a' }] })()).toMatchObject({ code: 'CONFIG_INVALID', path: 'apiKeys.0.keySha256' })
    expect(await bad({ apiKeys: [{ keySha256: 'ab'.repeat(32), client: 'a' }, { keySha256: 'ab'.repeat(32), client: 'b' }] })()).toMatchObject({ code: 'CONFIG_INVALID', path: 'apiKeys' })
    expect(await bad({ apiKeys: [{ keySha256: 'ab'.repeat(32), client: 'al\u202eice' }] })()).toMatchObject({ code: 'CONFIG_INVALID', path: 'apiKeys.0.client' })
    expect(await bad({ http: { port: 1, headersTimeoutMs: 5000, requestTimeoutMs: 1000 } })()).toMatchObject({ code: 'CONFIG_INVALID', path: 'http.headersTimeoutMs' })
    expect(await bad({ limits: { maxBatch: 5000 } })()).toMatchObject({ code: 'CONFIG_INVALID', path: 'limits.maxBatch' })
    expect(await bad({ http: { port: 70000 } })()).toMatchObject({ code: 'CONFIG_INVALID', path: 'http.port' })
    expect(await bad({ http: { port: 1, explorerUrl: 'javascript:alert(1)' } })()).toMatchObject({ code: 'CONFIG_INVALID', path: 'http.explorerUrl' })
    expect(await bad({ serviceId: '' })()).toMatchObject({ code: 'CONFIG_INVALID', path: 'serviceId' })
    expect(await bad({ surprise: true })()).toMatchObject({ code: 'CONFIG_INVALID' })
  })

  it('loads a file, resolving paths against its directory; refuses missing and non-JSON files', async () => {
    const file = join(dir, 'service.json')
    await writeFile(file, JSON.stringify(valid()))
    const config = await loadConfig(file)
    expect(config.dataDir).toBe(join(dir, 'data'))
    expect(await refusal(loadConfig(join(dir, 'missing.json')))).toEqual({ name: 'ConfigError', code: 'CONFIG_UNREADABLE' })
    await writeFile(file, '{ "serviceId": ')
    expect(await refusal(loadConfig(file))).toEqual({ name: 'ConfigError', code: 'CONFIG_INVALID' })
  })

  it('refuses a bad genesis, and startService leaves nothing running', async () => {
    const genesis = join(dir, 'genesis.json')
    await writeFile(genesis, JSON.stringify({ chainId: 'x', validators: [] }))
    expect(await refusal(loadGenesis(genesis))).toEqual({ name: 'ConfigError', code: 'GENESIS_INVALID' })
    const config = parseConfig({ ...valid(), http: { port: 0 } }, dir)
    expect(await refusal(startService(config))).toEqual({ name: 'ConfigError', code: 'GENESIS_INVALID' })
    expect(await refusal(loadGenesis(join(dir, 'none.json')))).toEqual({ name: 'ConfigError', code: 'GENESIS_INVALID' })
  })

  it('startService refuses a service the genesis does not register under its name with its seed\'s key', async () => {
    const seed = new Uint8Array(32).fill(0xab)
    const genesis = (services: Array<{ name: string, publicKey: Uint8Array }>): string => toJsonText({
      chainId: 'c', genesisTime: 1, validators: [{ name: 'v', publicKey: defaultEd25519.publicKey(new Uint8Array(32).fill(7)) }], services, params: DEFAULT_PARAMS
    })
    const config = parseConfig({ ...valid(), http: { port: 0 } }, dir)
    for (const services of [[], [{ name: 'other', publicKey: defaultEd25519.publicKey(seed) }], [{ name: 'svc', publicKey: defaultEd25519.publicKey(new Uint8Array(32).fill(1)) }]]) {
      await writeFile(join(dir, 'genesis.json'), genesis(services))
      expect(await refusal(startService(config))).toMatchObject({ name: 'ConfigError', code: 'SERVICE_NOT_REGISTERED' })
    }
  })

  it('trustnet init stores only the API key\'s hash in the service config and hands the key over in a file of its own', async () => {
    const { apiKey } = await initNetwork({ validators: 1, out: dir, basePort: 7100, host: '127.0.0.1' })
    const text = await readFile(serviceConfigPath(dir), 'utf8')
    expect(text).not.toContain(apiKey)
    const config = await loadConfig(serviceConfigPath(dir))
    expect(config.apiKeys).toEqual([{ keySha256: createHash('sha256').update(apiKey).digest('hex'), client: 'client-1' }])
    // Its health answer points people at validator 0's explorer page.
    expect(config.http.explorerUrl).toBe('http://127.0.0.1:7200/explorer')
    expect(await readApiKey(dir)).toBe(apiKey)
    expect((await stat(apiKeyPath(dir))).mode & 0o777).toBe(0o600)
    await rm(apiKeyPath(dir))
    expect(await refusal(readApiKey(dir))).toEqual({ name: 'ConfigError', code: 'CONFIG_UNREADABLE' })
  })
})
