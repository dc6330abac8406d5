/**
 * Runs the real service (startService) against a fake validator set, in a temp directory that
 * survives restarts: write the genesis and a config, start, stop, restart on the same dataDir,
 * send raw HTTP requests, and read or tamper with the service's LevelDB while it is stopped.
 * close() removes everything, whatever state the test left it in.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { waitFor as pollUntil } from '../../lib/wait-for.js'
import { sha256 } from '../../consensus/hash.js'
import { toHex } from '../../consensus/ids.js'
import { parseConfig, type ServiceConfig, type ServiceConfigJson } from '../../service/config.js'
import { startService, type RunningService, type StartOptions } from '../../service/main.js'
import { dataKey } from '../../service/store.js'
import { FAKE_SERVICE, type FakeNetwork } from './fake-nodes.js'

export const ALICE = { key: 'alice-key-0123456789abcdef', client: 'alice' }
export const BOB = { key: 'bob-key-0123456789abcdef00', client: 'bob' }

/** A client's entry in the service config: the key's hash, never the key. */
export function configuredKey (k: { key: string, client: string }): { keySha256: string, client: string } {
  return { keySha256: toHex(sha256(new TextEncoder().encode(k.key))), client: k.client }
}
/** The service the fake network registers: the harness runs as it unless its config says otherwise. */
export const SERVICE_ID = FAKE_SERVICE.name

export interface ApiAnswer {
  status: number
  headers: Headers
  bytes: Uint8Array
  /** The body as JSON, or undefined when it is not JSON. */
  json: any // eslint-disable-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary fields
}

export interface RequestInit {
  /** API key; null sends no Authorization header. @default ALICE.key */
  key?: string | null
  body?: Uint8Array | string
  contentType?: string
  headers?: Record<string, string>
}

export interface Harness {
  readonly dir: string
  readonly config: ServiceConfig
  readonly url: string
  readonly running: boolean
  start(): Promise<void>
  stop(): Promise<void>
  restart(): Promise<void>
  request(method: string, path: string, init?: RequestInit): Promise<ApiAnswer>
  /** Every key and value of the service's LevelDB, as hex (service must be stopped). */
  snapshot(): Promise<Map<string, string>>
  /** Overwrite (or with null, delete) an item's stored bytes behind the service's back (service must be stopped). */
  tamper(id: string, bytes: Uint8Array | null): Promise<void>
  close(): Promise<void>
}

export interface HarnessOptions {
  config?: Partial<ServiceConfigJson>
  start?: StartOptions
}

const REQUEST_TIMEOUT_MS = 20_000

/** Quick retries, so tests that take nodes down do not wait out production backoffs. */
const TEST_TUNING: StartOptions = {
  outbox: { pollWaitMs: 2_000, backoff: { minMs: 50, maxMs: 500 } },
  nodeRequestTimeoutMs: 5_000
}

export async function startHarness (net: FakeNetwork, options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'trustnet-service-'))
  let service: RunningService | undefined
  try {
    const genesisPath = join(dir, 'genesis.json')
    await net.writeGenesis(genesisPath)
    const config = parseConfig({
      serviceId: SERVICE_ID,
      seed: toHex(FAKE_SERVICE.seed),
      http: { host: '127.0.0.1', port: 0 },
      dataDir: join(dir, 'data'),
      genesisPath,
      nodes: net.addrs(),
      apiKeys: [configuredKey(ALICE), configuredKey(BOB)],
      certificateWaitMs: 10_000,
      ...options.config
    } satisfies ServiceConfigJson)
    const storePath = join(config.dataDir, 'store')
    const mustBeStopped = (): void => { if (service !== undefined) throw new Error('stop the service first') }

    const harness: Harness = {
      dir,
      config,
      get url () {
        if (service === undefined) throw new Error('service is not running')
        return service.url
      },
      get running () { return service !== undefined },
      start: async () => {
        if (service === undefined) service = await startService(config, { ...TEST_TUNING, ...options.start })
      },
      stop: async () => {
        const s = service
        service = undefined
        await s?.stop()
      },
      restart: async () => {
        await harness.stop()
        await harness.start()
      },
      request: async (method, path, init = {}) => {
        const headers: Record<string, string> = { ...init.headers }
        const key = init.key === undefined ? ALICE.key : init.key
        if (key !== null) headers.authorization = `Bearer ${key}`
        if (init.contentType !== undefined) headers['content-type'] = init.contentType
        const res = await fetch(`${harness.url}${path}`, {
          method,
          headers,
          ...(init.body !== undefined ? { body: init.body } : {}),
          // A hung request fails here, naming itself, instead of timing the whole test out.
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)
        })
        const bytes = new Uint8Array(await res.arrayBuffer())
        let json: unknown
        try { json = JSON.parse(new TextDecoder().decode(bytes)) } catch { json = undefined }
        return { status: res.status, headers: res.headers, bytes, json }
      },
      snapshot: async () => {
        mustBeStopped()
        const db = new Level<Uint8Array, Uint8Array>(storePath, { keyEncoding: 'view', valueEncoding: 'view' })
        try {
          const out = new Map<string, string>()
          for await (const [k, v] of db.iterator()) out.set(toHex(k), toHex(v))
          return out
        } finally {
          await db.close()
        }
      },
      tamper: async (id, bytes) => {
        mustBeStopped()
        const db = new Level<Uint8Array, Uint8Array>(storePath, { keyEncoding: 'view', valueEncoding: 'view' })
        try {
          const key = dataKey(Uint8Array.from(Buffer.from(id, 'hex')))
          if (bytes === null) await db.del(key)
          else await db.put(key, bytes)
        } finally {
          await db.close()
        }
      },
      close: async () => {
        try {
          await harness.stop()
        } finally {
          await rm(dir, { recursive: true, force: true })
        }
      }
    }
    await harness.start()
    return harness
  } catch (err) {
    await service?.stop()
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}

/** lib's waitFor at the pace of these tests: a check every 25 ms, 15 s at most. */
export async function waitFor<T> (what: string, check: () => T | Promise<T>, timeoutMs = 15_000): Promise<Exclude<T, undefined | false>> {
  return await pollUntil(what, check, timeoutMs, 25)
}
