import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_PATH } from '../../cli/cluster.js'
import { CONTAINER_DATA_DIR, IMAGE_USER, composeNetwork, composeYaml, validatorName, type ComposeSpec } from '../../cli/compose.js'

const run = promisify(execFile)
const OPTIONS = { basePort: 7100, image: 'trustnet:latest', publish: '127.0.0.1', impairImage: 'nicolaka/netshoot' }
const spec = (validators: number): ComposeSpec => ({ validators, ...OPTIONS, user: `${IMAGE_USER.uid}:${IMAGE_USER.gid}` })

interface Service { image: string, user?: string, init?: boolean, command: string[], volumes?: string[], networks?: string[], ports?: string[], healthcheck?: { test: string[] }, depends_on?: Record<string, { condition: string }>, profiles?: string[], network_mode?: string, cap_add?: string[] }
interface Doc { services: Record<string, Service>, networks: Record<string, { internal?: boolean }>, volumes: Record<string, unknown> }
const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T

let tmp: string
beforeAll(async () => { tmp = await mkdtemp(join(tmpdir(), 'trustnet-compose-')) })
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

describe.each([4, 7])('trustnet compose with %i validators', n => {
  let out: string
  let doc: Doc
  const validators = Array.from({ length: n }, (_, i) => validatorName(i))

  beforeAll(async () => {
    out = join(tmp, `net-${n}`)
    await composeNetwork({ validators: n, out, ...OPTIONS })
    // Parsed from the file's text, as compose reads it.
    doc = await readJson<Doc>(join(out, 'compose.yml'))
  })

  it('has a service per validator, one for the trustnet service and the impairment sidecar', () => {
    expect(Object.keys(doc.services).sort()).toEqual([...validators, 'impair', 'service'].sort())
    for (const [i, name] of validators.entries()) expect(doc.services[name]?.command).toEqual(['node', '--home', `/trustnet/node-${i}`])
    expect(doc.services.service?.command).toEqual(['service', '--config', '/trustnet/service/service.json'])
  })

  it('has every validator dialled by its service name and listening on all addresses', async () => {
    for (let i = 0; i < n; i++) {
      const node = await readJson<{ listen: string, http: { host: string }, peers: string[], dataDir: string }>(join(out, 'network', `node-${i}`, 'node.json'))
      expect(node.listen).toBe(`/ip4/0.0.0.0/tcp/${7100 + i}`)
      expect(node.http.host).toBe('0.0.0.0')
      expect(node.peers.map(p => p.split('/').slice(0, 5).join('/')))
        .toEqual(validators.flatMap((name, j) => j === i ? [] : [`/dns4/${name}/tcp/${7100 + j}`]))
      expect(node.dataDir).toBe(CONTAINER_DATA_DIR)
    }
    const service = await readJson<{ http: { host: string }, nodes: string[], dataDir: string }>(join(out, 'network', 'service', 'service.json'))
    expect(service.http.host).toBe('0.0.0.0')
    expect(service.nodes.map(p => p.split('/')[2])).toEqual(validators)
    expect(service.dataDir).toBe(CONTAINER_DATA_DIR)
  })

  it('checks the health of every process on the HTTP port its config names, with node', async () => {
    for (let i = 0; i < n; i++) {
      const { http } = await readJson<{ http: { port: number } }>(join(out, 'network', `node-${i}`, 'node.json'))
      expect(doc.services[validatorName(i)]?.healthcheck?.test).toEqual(['CMD', 'node', '-e', expect.stringContaining(`http://127.0.0.1:${http.port}/status`)])
    }
    const { http } = await readJson<{ http: { port: number } }>(join(out, 'network', 'service', 'service.json'))
    expect(doc.services.service?.healthcheck?.test).toEqual(['CMD', 'node', '-e', expect.stringContaining(`http://127.0.0.1:${http.port}/v1/health`)])
    expect(doc.services.service?.depends_on).toEqual(Object.fromEntries(validators.map(v => [v, { condition: 'service_healthy' }])))
  })

  it('publishes only the service port, on the given address; validators sit on an internal network', async () => {
    const { http } = await readJson<{ http: { port: number } }>(join(out, 'network', 'service', 'service.json'))
    const published = Object.entries(doc.services).filter(([, s]) => s.ports !== undefined)
    expect(published).toEqual([['service', expect.objectContaining({ ports: [`127.0.0.1:${http.port}:${http.port}`] })]])
    expect(doc.networks.validators?.internal).toBe(true)
    for (const name of validators) expect(doc.services[name]?.networks).toEqual(['validators'])
    expect(doc.services.service?.networks).toEqual(['validators', 'clients'])
    expect(doc.networks.clients?.internal).toBeUndefined()
  })

  it('keeps data in a named volume per container and mounts each home read-only from the generated directory', async () => {
    expect(Object.keys(doc.volumes).sort()).toEqual([...validators, 'service'].map(s => `${s}-data`).sort())
    for (const [i, name] of validators.entries()) {
      expect(doc.services[name]?.volumes).toEqual([
        './network/genesis.json:/trustnet/genesis.json:ro',
        `./network/node-${i}:/trustnet/node-${i}:ro`,
        `${name}-data:${CONTAINER_DATA_DIR}`
      ])
      expect((await stat(join(out, 'network', `node-${i}`, 'node.json'))).isFile()).toBe(true)
    }
    expect(doc.services.service?.volumes).toContain(`service-data:${CONTAINER_DATA_DIR}`)
  })

  it('runs every process under an init, as a user that can read its keys', async () => {
    const uid = process.getuid?.() ?? IMAGE_USER.uid
    for (const name of [...validators, 'service']) {
      expect(doc.services[name]?.init).toBe(true)
      expect(doc.services[name]?.user).toBe(uid === 0 ? `${IMAGE_USER.uid}:${IMAGE_USER.gid}` : `${uid}:${process.getgid?.()}`)
    }
    const key = await stat(join(out, 'network', 'node-0', 'node.json'))
    expect(key.mode & 0o777).toBe(0o600)
    expect(key.uid).toBe(uid === 0 ? IMAGE_USER.uid : uid)
    // The home around the key is private too, so that user must own it to enter it.
    for (const home of ['node-0', 'service']) {
      const dir = await stat(join(out, 'network', home))
      expect([dir.mode & 0o777, dir.uid]).toEqual([0o700, uid === 0 ? IMAGE_USER.uid : uid])
    }
  })

  it('defines the impairment sidecar in validator-0\'s network stack, started only with its profile', () => {
    expect(doc.services.impair).toMatchObject({ profiles: ['impair'], network_mode: 'service:validator-0', cap_add: ['NET_ADMIN'] })
  })
})

describe('trustnet compose: files and refusals', () => {
  it('the committed docker/compose.yml is what the generator writes for 4 validators', async () => {
    expect(await readFile(new URL('../../docker/compose.yml', import.meta.url), 'utf8')).toBe(composeYaml(spec(4)))
  })

  it('refuses a validator count out of range and writes nothing', async () => {
    const out = join(tmp, 'refused')
    await expect(composeNetwork({ validators: 0, out, ...OPTIONS })).rejects.toMatchObject({ name: 'ConfigError', code: 'INVALID_FIELD' })
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('refuses to overwrite an existing network without --force, leaving its files as they were', async () => {
    const out = join(tmp, 'existing')
    await composeNetwork({ validators: 4, out, ...OPTIONS, chainId: 'first' })
    const before = await readFile(join(out, 'network', 'genesis.json'), 'utf8')
    await expect(composeNetwork({ validators: 7, out, ...OPTIONS })).rejects.toMatchObject({ name: 'ConfigError', code: 'INVALID_FIELD' })
    expect(await readFile(join(out, 'network', 'genesis.json'), 'utf8')).toBe(before)
    expect(Object.keys((await readJson<Doc>(join(out, 'compose.yml'))).services)).toHaveLength(4 + 2)
  })

  it('trustnet compose --help documents its options; a bad count is a usage error', async () => {
    const { stdout } = await run(process.execPath, [CLI_PATH, 'compose', '--help'])
    for (const option of ['--validators', '--out', '--base-port', '--image', '--publish']) expect(stdout).toContain(option)
    const bad = await run(process.execPath, [CLI_PATH, 'compose', '--validators', '0', '--out', join(tmp, 'bad')]).then(() => undefined, (err: { code: number }) => err)
    expect(bad?.code).toBeGreaterThan(0)
    await expect(stat(join(tmp, 'bad'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
