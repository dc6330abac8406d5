import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { genesisPath, initNetwork, nodeHome, serviceConfigPath } from '../../cli/init.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { fromHex, toHex } from '../../consensus/ids.js'
import { readGenesis } from '../../node/config.js'
import { loadConfig } from '../../service/config.js'

const dirs: string[] = []
afterEach(async () => { await Promise.all(dirs.splice(0).map(async d => await rm(d, { recursive: true, force: true }))) })

async function freshDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'trustnet-init-'))
  dirs.push(dir)
  return dir
}

describe('trustnet init: processes on hosts of their own', () => {
  it('binds each validator to its listen address and has the others dial its advertised name or IP', async () => {
    const out = await freshDir()
    await initNetwork({
      validators: 2, out, basePort: 7100, host: '127.0.0.1',
      placement: { validators: [{ listen: '0.0.0.0', advertise: 'validator-0' }, { listen: '10.9.0.2', advertise: '10.9.0.2' }], service: { listen: '0.0.0.0', advertise: 'service' } }
    })
    const node0 = JSON.parse(await readFile(join(nodeHome(out, 0), 'node.json'), 'utf8'))
    const node1 = JSON.parse(await readFile(join(nodeHome(out, 1), 'node.json'), 'utf8'))
    const service = JSON.parse(await readFile(serviceConfigPath(out), 'utf8'))
    expect(node0.listen).toBe('/ip4/0.0.0.0/tcp/7100')
    expect(node0.http).toEqual({ host: '0.0.0.0', port: 7200 })
    expect(node0.peers).toEqual([expect.stringMatching(/^\/ip4\/10\.9\.0\.2\/tcp\/7101\/p2p\/12D3Koo/)])
    expect(node1.peers).toEqual([expect.stringMatching(/^\/dns4\/validator-0\/tcp\/7100\/p2p\/12D3Koo/)])
    expect(service.http).toEqual({ host: '0.0.0.0', port: 7300 })
    expect(service.nodes).toEqual([...node1.peers, ...node0.peers])
  })

  it('refuses a placement that does not name every validator, and writes nothing', async () => {
    const out = await freshDir()
    await expect(initNetwork({ validators: 3, out, basePort: 7100, host: '127.0.0.1', placement: { validators: [{ listen: '0.0.0.0', advertise: 'a' }], service: { listen: '0.0.0.0', advertise: 's' } } }))
      .rejects.toMatchObject({ code: 'INVALID_FIELD' })
    await expect(readFile(join(out, 'genesis.json'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})

describe('trustnet init: the validators\' HTTP API', () => {
  it('listens on 127.0.0.1 whatever the p2p host, unless the operator names another address', async () => {
    const http = async (options: { httpHost?: string, httpExempt?: string[] }): Promise<{ node: { host: string, exempt?: string[] }, explorerUrl: string }> => {
      const out = await freshDir()
      await initNetwork({ validators: 1, out, basePort: 7100, host: '0.0.0.0', ...options })
      const node = JSON.parse(await readFile(join(nodeHome(out, 0), 'node.json'), 'utf8')).http
      return { node, explorerUrl: (await loadConfig(serviceConfigPath(out))).http.explorerUrl as string }
    }
    expect(await http({})).toEqual({ node: { host: '127.0.0.1', port: 7200 }, explorerUrl: 'http://127.0.0.1:7200/explorer' })
    expect(await http({ httpHost: '192.0.2.7', httpExempt: ['10.77.0.1'] })).toEqual({ node: { host: '192.0.2.7', port: 7200, exempt: ['10.77.0.1'] }, explorerUrl: 'http://192.0.2.7:7200/explorer' })
  })
})

describe('trustnet init: the service', () => {
  it('registers the service in the genesis under its serviceId, with the public key of its own secret seed', async () => {
    const out = await freshDir()
    await initNetwork({ validators: 3, out, basePort: 7100, host: '127.0.0.1' })
    const genesis = await readGenesis(genesisPath(out))
    const config = await loadConfig(serviceConfigPath(out))
    expect(genesis.services.map(s => ({ name: s.name, publicKey: toHex(s.publicKey) }))).toEqual([
      { name: config.serviceId, publicKey: toHex(defaultEd25519.publicKey(config.seed)) }
    ])
    // Its key is its own: no validator's.
    for (let i = 0; i < 3; i++) {
      const node = JSON.parse(await readFile(join(nodeHome(out, i), 'node.json'), 'utf8')) as { seed: string }
      expect(toHex(defaultEd25519.publicKey(fromHex(node.seed)))).not.toBe(toHex(genesis.services[0]!.publicKey))
    }
  })
})
