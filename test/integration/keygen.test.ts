import { execFile, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { CLI_PATH, spawnChild } from '../../cli/cluster.js'
import { clusterOffsets, freePortBase } from '../../cli/free-ports.js'
import { initNetwork } from '../../cli/init.js'
import { assembleGenesis, keygen, makeNodeHome, parseNamedKey, writeGenesis, type NamedKey } from '../../cli/operator-keys.js'
import { peerIdFromEd25519PublicKey } from '../../net/host.js'
import { loadNodeConfig, readGenesis } from '../../node/config.js'
import { KEY_PASSPHRASE_ENV } from '../../lib/sealed-key.js'
import { ChainStore } from '../../node/store/chain-store.js'
import { NodeClient } from '../../service/node-client.js'
import { waitFor } from '../../lib/wait-for.js'

// Keys and files as operators meet them: every secret readable by its owner only, and a network
// formed by operators who each keep their own key (keygen, genesis from public keys, node homes).

const exec = promisify(execFile)
const run = async (args: string[], env: Record<string, string> = {}): Promise<{ code: number, stdout: string, stderr: string }> =>
  await exec(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, ...env } }).then(
    r => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (err: { code: number, stdout: string, stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }))
const mode = async (path: string): Promise<string> => ((await stat(path)).mode & 0o777).toString(8)
/** The stable code main.ts prints as `trustnet: [CODE] message`. */
const codeOf = (stderr: string): string | undefined => /^trustnet: \[([A-Z_]+)\]/.exec(stderr)?.[1]

interface Keygen { publicKey: string, peerId: string, keyFile: string, sealed: boolean }

describe('keys and files', () => {
  let dir = ''
  const processes: ChildProcess[] = []
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'trustnet-keys-')) })
  afterAll(async () => {
    for (const p of processes) p.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  it('init makes every directory 0700 and every key or config file 0600; the genesis is public', async () => {
    const out = join(dir, 'init')
    await initNetwork({ validators: 2, out, basePort: 7100, host: '127.0.0.1' })
    expect(await mode(out)).toBe('700')
    expect(await mode(join(out, 'genesis.json'))).toBe('644')
    for (const d of ['node-0', 'node-1', 'service']) expect(await mode(join(out, d))).toBe('700')
    for (const f of ['node-0/node.json', 'node-1/node.json', 'service/service.json']) expect(await mode(join(out, f))).toBe('600')
  })

  it('a validator store opens its data directory private, and tightens one left loose', async () => {
    const data = join(dir, 'store', 'data')
    const store = new ChainStore(data)
    await store.open()
    await store.close()
    expect(await mode(data)).toBe('700')
    await import('node:fs/promises').then(async fs => { await fs.chmod(data, 0o755) })
    await store.open()
    await store.close()
    expect(await mode(data)).toBe('700')
  })

  it('keygen writes a private key file, prints its public key and peer id, and never overwrites a key', async () => {
    const out = join(dir, 'kg')
    const made = await run(['keygen', '--out', out, '--json'])
    expect(made.code).toBe(0)
    const printed = JSON.parse(made.stdout) as Keygen
    expect(await mode(out)).toBe('700')
    expect(await mode(printed.keyFile)).toBe('600')
    const { seed } = JSON.parse(await readFile(printed.keyFile, 'utf8')) as { seed: string }
    const pub = defaultEd25519.publicKey(Buffer.from(seed, 'hex'))
    expect(printed.publicKey).toBe(Buffer.from(pub).toString('hex'))
    expect(printed.peerId).toBe(peerIdFromEd25519PublicKey(pub))

    const again = await run(['keygen', '--out', out])
    expect(again.code).toBe(2)
    expect(codeOf(again.stderr)).toBe('KEY_EXISTS')
    expect(JSON.parse(await readFile(printed.keyFile, 'utf8'))).toMatchObject({ seed })
  })

  it('keygen seals the key with a passphrase; the node asks for it and will not start without it or with a wrong one', async () => {
    const base = join(dir, 'sealed')
    await mkdir(base)
    const passFile = join(base, 'passphrase')
    await writeFile(passFile, 'a long operator passphrase\n', { mode: 0o600 })
    const made = await run(['keygen', '--out', join(base, 'key'), '--passphrase-file', passFile, '--json'])
    expect(made.code, made.stderr).toBe(0)
    const key = JSON.parse(made.stdout) as Keygen
    expect(key.sealed).toBe(true)
    expect(await mode(key.keyFile)).toBe('600')
    expect(JSON.parse(await readFile(key.keyFile, 'utf8'))).not.toHaveProperty('seed')

    // A one-validator network of that key; the home holds the sealed key, node.json no seed.
    const genesisFile = join(base, 'genesis.json')
    await writeGenesis(genesisFile, assembleGenesis({ chainId: 'sealed', validators: [parseNamedKey(`v0=${key.publicKey}`)], services: [] }))
    const home = join(base, 'home')
    const port = await freePortBase(clusterOffsets(1))
    await makeNodeHome({ keyFile: key.keyFile, genesisFile, out: home, listen: `/ip4/127.0.0.1/tcp/${port}`, http: { host: '127.0.0.1', port: port + 100 }, peers: [] })
    const nodeJson = JSON.parse(await readFile(join(home, 'node.json'), 'utf8')) as Record<string, unknown>
    expect(nodeJson).toMatchObject({ keyFile: 'key.json' })
    expect(nodeJson).not.toHaveProperty('seed')
    expect(await mode(join(home, 'key.json'))).toBe('600')

    // No passphrase anywhere: exit 2 with the code, nothing opened. A wrong one (from the file node.json names): its own code.
    const missing = await run(['node', '--home', home], { [KEY_PASSPHRASE_ENV]: '' })
    expect([missing.code, codeOf(missing.stderr)]).toEqual([2, 'KEY_PASSPHRASE_MISSING'])
    await expect(stat(join(home, 'data'))).rejects.toThrow()
    await writeFile(join(base, 'wrong'), 'not the passphrase\n')
    await writeFile(join(home, 'node.json'), JSON.stringify({ ...nodeJson, keyPassphraseFile: join(base, 'wrong') }))
    await expect(loadNodeConfig(home)).rejects.toMatchObject({ name: 'ConfigError', code: 'KEY_PASSPHRASE_WRONG' })

    // The passphrase file named in node.json: the node starts under the key's own peer id.
    await writeFile(join(home, 'node.json'), JSON.stringify({ ...nodeJson, keyPassphraseFile: passFile }))
    const started = await spawnChild(['node', '--home', home], join(base, 'node.log'), { [KEY_PASSPHRASE_ENV]: '' })
    processes.push(started.child)
    expect((started.ready as unknown as { peerId: string }).peerId).toBe(key.peerId)
  }, 60_000)

  it('genesis refuses a repeated name, a repeated key, a malformed or off-curve key, and an existing file', async () => {
    const k = (): string => Buffer.from(defaultEd25519.publicKey(randomBytes(32))).toString('hex')
    const [a, b] = [k(), k()]
    const named = (name: string, publicKey: string): NamedKey => ({ name, publicKey })
    expect(() => assembleGenesis({ chainId: 'x', validators: [named('v0', a), named('v0', b)], services: [] })).toThrow(expect.objectContaining({ code: 'DUPLICATE_NAME' }))
    expect(() => assembleGenesis({ chainId: 'x', validators: [named('v0', a)], services: [named('s', a)] })).toThrow(expect.objectContaining({ code: 'DUPLICATE_KEY' }))
    expect(() => assembleGenesis({ chainId: 'x', validators: [], services: [named('s', a)] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => assembleGenesis({ chainId: '', validators: [named('v0', a)], services: [] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => parseNamedKey(`v0=${a.slice(2)}`)).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }))
    expect(() => parseNamedKey(`v0=02${'00'.repeat(31)}`)).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }))
    expect(() => parseNamedKey(a)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))

    // From the command line: exit 2 with the code, and nothing written.
    const out = join(dir, 'refused.json')
    const r = await run(['genesis', '--chain-id', 'x', '--out', out, '--validator', `v0=${a}`, '--validator', `v1=${a}`])
    expect([r.code, codeOf(r.stderr)]).toEqual([2, 'DUPLICATE_KEY'])
    await expect(stat(out)).rejects.toThrow()
    await writeFile(out, '{}')
    await expect(writeGenesis(out, assembleGenesis({ chainId: 'x', validators: [named('v0', a)], services: [] }))).rejects.toMatchObject({ code: 'FILE_EXISTS' })
    expect(await readFile(out, 'utf8')).toBe('{}')
  })

  it('independent operators: keygen each, a genesis of public keys, node homes; the validators commit', async () => {
    const names = ['validator-0', 'validator-1', 'validator-2', 'validator-3']
    // Each operator runs keygen on their own machine (the same code as `trustnet keygen`, tested above).
    const keys = await Promise.all([...names, 'service-a'].map(async name => ({ name, ...await keygen(join(dir, 'ops', name)) })))
    const genesisFile = join(dir, 'ops', 'genesis.json')
    const g = await run(['genesis', '--chain-id', 'operators', '--out', genesisFile,
      ...keys.slice(0, 4).flatMap(k => ['--validator', `${k.name}=${k.publicKey}`]), '--service', `service-a=${keys[4]?.publicKey ?? ''}`, '--json'])
    expect(g.code).toBe(0)
    expect(JSON.parse(g.stdout)).toMatchObject({ chainId: 'operators', validators: 4, services: 1 })
    expect(await mode(genesisFile)).toBe('644')

    const base = await freePortBase(clusterOffsets(4))
    const p2p = (i: number): string => `/ip4/127.0.0.1/tcp/${base + i}`
    const homes = names.map(name => join(dir, 'ops', name, 'home'))
    for (const [i, name] of names.entries()) {
      // Each operator knows only the others' names and addresses; peer ids come from the genesis.
      const peers = names.flatMap((other, j) => j === i ? [] : [`${other}=${p2p(j)}`])
      const key = join(dir, 'ops', name, 'key.json')
      if (i === 0) {
        const r = await run(['node-home', '--key', key, '--genesis', genesisFile, '--out', homes[i] as string, '--listen', p2p(i), '--http', `127.0.0.1:${base + 100 + i}`, '--peers', ...peers])
        expect(r.code, r.stderr).toBe(0)
      } else {
        await makeNodeHome({ keyFile: key, genesisFile, out: homes[i] as string, listen: p2p(i), http: { host: '127.0.0.1', port: base + 100 + i }, peers })
      }
      expect(await mode(homes[i] as string)).toBe('700')
      expect(await mode(join(homes[i] as string, 'node.json'))).toBe('600')
    }
    // A key that is not in the genesis makes no home.
    await expect(makeNodeHome({ keyFile: join(dir, 'ops', 'service-a', 'key.json'), genesisFile, out: join(dir, 'ops', 'nope'), listen: p2p(9), http: { host: '127.0.0.1', port: 1 }, peers: [] })).rejects.toMatchObject({ code: 'NOT_IN_GENESIS' })
    await expect(makeNodeHome({ keyFile: join(dir, 'ops', names[0] as string, 'key.json'), genesisFile, out: join(dir, 'ops', 'nope'), listen: p2p(0), http: { host: '127.0.0.1', port: 1 }, peers: [`nobody=${p2p(5)}`] })).rejects.toMatchObject({ code: 'NOT_IN_GENESIS' })

    const started = await Promise.all(homes.map(async (home, i) => await spawnChild(['node', '--home', home], join(dir, 'ops', `node-${i}.log`))))
    processes.push(...started.map(s => s.child))
    const genesis = await readGenesis(genesisFile)
    const { seed } = JSON.parse(await readFile(join(dir, 'ops', 'service-a', 'key.json'), 'utf8')) as { seed: string }
    const client = new NodeClient({ genesis, nodes: started.map(s => (s.ready as unknown as { p2p: string[] }).p2p[0] as string), seed: Buffer.from(seed, 'hex'), serviceId: 'service-a' })
    await client.start()
    try {
      await waitFor('the service connected', () => client.connectedNodes().length > 0, 20_000)
      await client.submit([new Uint8Array(randomBytes(32))])
      for (const s of started) await waitFor(`validator ${s.ready.index ?? '?'} at height 1`, async () => ((await (await fetch(`${s.ready.http ?? ''}/status`)).json()) as { height: number }).height >= 1, 30_000)
      expect(await mode(join(homes[0] as string, 'data'))).toBe('700')
    } finally {
      await client.stop()
    }
  }, 90_000)
})
