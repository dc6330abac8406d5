/**
 * The client commands as a user runs them, compiled, against four validator processes and a
 * service: stamp saves a certificate beside each file; check verifies file and certificate
 * offline and says what they certify, and refuses a changed byte; verify confirms the service's
 * stored copy with the validators' signed attestations, and calls it tampered once it changes
 * behind the service's back. Exit codes: 0 valid or intact, 1 invalid or tampered, 2 usage or
 * connection error. A pinned genesis fingerprint refuses a copied genesis. Settings come from
 * flags, then the environment, then the config file. The tests run in order: the first stamps
 * the files the others check and verify.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_PATH } from '../../cli/cluster.js'
import { resolveSettings } from '../../cli/client-config.js'
import { ProcessCluster } from '../../cli/process-cluster.js'
import { tallyAttestations } from '../../client/verify.js'
import { buildCertificate, verifyCertificate } from '../../consensus/certificate.js'
import { fromHex, toHex } from '../../consensus/ids.js'
import { entryOf } from '../../consensus/entries.js'
import { genesisFingerprint } from '../../consensus/genesis-fingerprint.js'
import { certificateFromJson, toJson, toJsonText, type Json } from '../../consensus/json.js'
import { signAttestation, type Attestation } from '../../protocol/node-api.js'
import { dataKey } from '../../service/store.js'
import { makeCommittedBlock, makeEntries, makeEntry, makeNetwork, makeRecord, makeSubmission, testSalt } from '../helpers/fixtures.js'

interface Run { code: number, stdout: string, stderr: string }

/** Unreachable: nothing listens on port 1. */
const NO_SERVICE = 'http://127.0.0.1:1'
const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex')
const lines = (stdout: string): Array<Record<string, unknown>> => stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)

describe('trustnet stamp, check and verify', () => {
  let cluster: ProcessCluster
  let dir: string
  /** An environment without the user's own settings: HOME and the config home point into the test's directory. */
  let env: Record<string, string>
  const file = (name: string): string => join(dir, name)

  const run = async (args: string[], extraEnv: Record<string, string> = {}): Promise<Run> =>
    await new Promise(resolve => {
      execFile(process.execPath, [CLI_PATH, ...args], { env: { ...env, ...extraEnv } }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : (err as { code: number }).code, stdout, stderr })
      })
    })
  const service = (): string[] => ['--url', cluster.serviceUrl, '--api-key', cluster.apiKey]

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trustnet-client-cli-'))
    const clean = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('TRUSTNET_')))
    env = { ...clean, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config') }
    cluster = await ProcessCluster.create({ validators: 4 })
    await cluster.startNodes()
    await cluster.startService()
    await writeFile(file('a.txt'), 'the first document\n')
    await writeFile(file('b.pdf'), '%PDF-1.4 the second document\n')
    await writeFile(file('c.bin'), 'only the hash of this one leaves the machine\n')
  })

  afterAll(async () => {
    await cluster?.destroy()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('stamps files, saving each certificate beside its file, one JSON object per file', async () => {
    const [r, hashOnly] = await Promise.all([
      run(['stamp', file('a.txt'), file('b.pdf'), ...service(), '--json']),
      run(['stamp', file('c.bin'), '--hash-only', ...service(), '--pin', genesisFingerprint(cluster.genesis)])
    ])
    expect(r.code, r.stderr).toBe(0)
    const out = lines(r.stdout)
    expect(out).toHaveLength(2)
    for (const [name, type] of [['a.txt', 'text/plain'], ['b.pdf', 'application/pdf']] as const) {
      const line = out.find(o => o.file === file(name))
      expect(line).toMatchObject({ ok: true, certificate: `${file(name)}.trustnet.json`, dataHash: sha256(await readFile(file(name))) })
      expect(line?.id).toMatch(/^[0-9a-f]{64}$/)
      expect(line?.height).toBeGreaterThanOrEqual(1)
      const cert = JSON.parse(await readFile(`${file(name)}.trustnet.json`, 'utf8')) as { record: { meta: { name: string, contentType: string } } }
      expect(cert.record.meta).toMatchObject({ name, contentType: type })
    }
    expect(hashOnly.code, hashOnly.stderr).toBe(0)
    expect(hashOnly.stdout).toMatch(/c\.bin: stamped in block \d+, certificate .*c\.bin\.trustnet\.json\n/)
    expect(existsSync(`${file('c.bin')}.trustnet.json`)).toBe(true)
  })

  it('checks files offline and says what each certificate certifies (exit 0); a changed byte exits 1 with the reason', async () => {
    const changed = await readFile(file('a.txt'))
    changed[0] = (changed[0] as number) ^ 1
    await writeFile(file('a-changed.txt'), changed)
    const cert = await readFile(`${file('a.txt')}.trustnet.json`, 'utf8')
    await writeFile(file('forged.json'), cert.replace(/"salt": "(.)/, (_, c: string) => `"salt": "${c === '0' ? '1' : '0'}`))
    const genesis = ['--genesis', cluster.genesisFile]
    const [a, b, c, human, mismatch, forged] = await Promise.all([
      run(['check', file('a.txt'), ...genesis, '--json']),
      run(['check', file('b.pdf'), ...genesis, '--json']),
      run(['check', file('c.bin'), ...genesis, '--json']),
      run(['check', file('a.txt'), ...genesis]),
      run(['check', file('a-changed.txt'), `${file('a.txt')}.trustnet.json`, ...genesis, '--json']),
      run(['check', file('a.txt'), file('forged.json'), ...genesis, '--json'])
    ])
    const names = cluster.genesis.validators.map(v => v.name)
    for (const [r, name, type] of [[a, 'a.txt', 'text/plain'], [b, 'b.pdf', 'application/pdf'], [c, 'c.bin', 'application/octet-stream']] as const) {
      expect(r.code, r.stderr).toBe(0)
      const [out] = lines(r.stdout)
      expect(out).toMatchObject({
        file: file(name),
        certificate: `${file(name)}.trustnet.json`,
        valid: true,
        dataHash: sha256(await readFile(file(name))),
        name,
        contentType: type,
        service: cluster.genesis.services[0]?.name
      })
      expect(out?.entry).toMatch(/^[0-9a-f]{64}$/)
      expect(out?.height).toBeGreaterThanOrEqual(1)
      expect(out?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      expect((out?.signers as string[]).length).toBeGreaterThanOrEqual(3)
      for (const s of out?.signers as string[]) expect(names).toContain(s)
    }
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/a\.txt: valid\n/)
    expect(human.stdout).toContain(sha256(await readFile(file('a.txt'))))
    expect(human.stdout).toMatch(/signed by +\S/)
    expect(mismatch.code).toBe(1)
    expect(lines(mismatch.stdout)[0]).toMatchObject({ valid: false, reason: 'DATA_MISMATCH' })
    // A certificate with one byte changed is refused for its own reason.
    expect(forged.code).toBe(1)
    expect(lines(forged.stdout)[0]).toMatchObject({ valid: false, reason: 'INVALID_PROOF' })
  })

  it('pins the genesis: a certificate forged under a copied genesis checks valid against the copy, and exit 1 once the real fingerprint is pinned', async () => {
    // The forger copies the genesis (same chain id, same service name) with validator and service keys of their own.
    const net = makeNetwork(4, { chainId: cluster.genesis.chainId, keyLabel: 'forger' })
    const serviceName = cluster.genesis.services[0]?.name as string
    const forger = { ...net, genesis: { ...net.genesis, services: [{ name: serviceName, publicKey: net.genesis.services[0]?.publicKey as Uint8Array }] } }
    const record = { ...makeRecord(0, { service: serviceName }), dataHash: fromHex(sha256(await readFile(file('a.txt')))) }
    const b = makeCommittedBlock(forger, [makeSubmission(forger, [entryOf(record, testSalt(0))])])
    await writeFile(file('copied-genesis.json'), toJsonText(forger.genesis))
    await writeFile(file('forged-elsewhere.json'), toJsonText(buildCertificate(b.block, b.commit, 0, record, testSalt(0))))
    const real = genesisFingerprint(cluster.genesis)
    const copied = ['--genesis', file('copied-genesis.json')]
    const [unpinned, pinned, byEnv, againstReal, own, bad] = await Promise.all([
      run(['check', file('a.txt'), file('forged-elsewhere.json'), ...copied, '--json']),
      run(['check', file('a.txt'), file('forged-elsewhere.json'), ...copied, '--pin', real, '--json']),
      run(['verify-certificate', file('forged-elsewhere.json'), ...copied], { TRUSTNET_GENESIS_PIN: real }),
      run(['check', file('a.txt'), file('forged-elsewhere.json'), '--genesis', cluster.genesisFile, '--json']),
      run(['check', file('a.txt'), '--genesis', cluster.genesisFile, '--pin', real.toUpperCase(), '--json']),
      run(['check', file('a.txt'), ...copied, '--pin', 'sha256:abc'])
    ])
    expect(unpinned.code, unpinned.stderr).toBe(0)
    expect(lines(unpinned.stdout)[0]).toMatchObject({ valid: true })
    for (const r of [pinned, byEnv]) {
      expect(r.code, r.stderr).toBe(1)
      expect(lines(r.stdout)[0]).toMatchObject({ valid: false, reason: 'GENESIS_PIN_MISMATCH' })
    }
    expect(againstReal.code).toBe(1)
    expect(lines(againstReal.stdout)[0]).toMatchObject({ valid: false, reason: 'WRONG_GENESIS' })
    expect(own.code, own.stderr).toBe(0)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^trustnet: \[BAD_ARGUMENT\]/)
  })

  it('stamp checks each certificate against the genesis before saving it: another network\'s genesis or pin saves nothing, exit 1', async () => {
    await writeFile(file('d.txt'), 'a document stamped under the wrong genesis\n')
    const [wrongGenesis, wrongPin] = await Promise.all([
      run(['stamp', file('d.txt'), ...service(), '--genesis', file('copied-genesis.json'), '--json']),
      run(['stamp', file('d.txt'), ...service(), '--json'], { TRUSTNET_GENESIS_PIN: '00'.repeat(32) })
    ])
    expect(wrongGenesis.code, wrongGenesis.stderr).toBe(1)
    expect(lines(wrongGenesis.stdout)[0]).toMatchObject({ file: file('d.txt'), ok: false, error: { code: 'WRONG_GENESIS' } })
    expect(wrongPin.code, wrongPin.stderr).toBe(1)
    expect(lines(wrongPin.stdout)[0]).toMatchObject({ ok: false, error: { code: 'GENESIS_PIN_MISMATCH' } })
    expect(existsSync(`${file('d.txt')}.trustnet.json`)).toBe(false)
  })

  it('verifies the stored copy intact with a quorum of signed attestations, settings from the environment: exit 0', async () => {
    const settings = { TRUSTNET_URL: cluster.serviceUrl, TRUSTNET_API_KEY: cluster.apiKey, TRUSTNET_GENESIS: cluster.genesisFile }
    const [r, hashOnly] = await Promise.all([run(['verify', file('a.txt'), '--json'], settings), run(['verify', file('c.bin')], settings)])
    expect(r.code, r.stderr).toBe(0)
    const [out] = lines(r.stdout)
    const cert = JSON.parse(await readFile(`${file('a.txt')}.trustnet.json`, 'utf8')) as { record: { dataHash: string } }
    expect(out).toMatchObject({ intact: true, dataHash: cert.record.dataHash, fileHash: cert.record.dataHash, storedHash: cert.record.dataHash, quorum: 3 })
    expect((out?.attestedBy as string[]).length).toBeGreaterThanOrEqual(3)
    // Only the hash of c.bin was sent: the service has nothing to read back.
    expect(hashOnly.code).toBe(2)
    expect(hashOnly.stderr).toMatch(/^trustnet: \[NO_DATA\]/)
  })

  it('usage and connection errors exit 2 with one line, never 1', async () => {
    const genesis = ['--genesis', cluster.genesisFile]
    const cases: Array<[string[], RegExp]> = [
      [['stamp'], /error: missing required argument/],
      [['stamp', file('a.txt'), ...service()], /^trustnet: \[CERTIFICATE_EXISTS\]/],
      [['check', file('a.txt')], /^trustnet: \[MISSING_SETTING\]/],
      [['check', file('no-such-file'), ...genesis], /^trustnet: \[FILE_UNREADABLE\]/],
      [['check', file('a.txt'), '--config', file('no-such-config.json')], /^trustnet: \[CONFIG_UNREADABLE\]/],
      [['verify', file('a.txt'), '--url', NO_SERVICE, '--api-key', 'k', ...genesis], /^trustnet: \[NETWORK_ERROR\]/],
      [['verify', file('a.txt'), '--url', cluster.serviceUrl, '--api-key', 'not-a-key-of-this-service', ...genesis], /^trustnet: \[UNAUTHORIZED\]/]
    ]
    const before = await readFile(`${file('a.txt')}.trustnet.json`, 'utf8')
    const results = await Promise.all(cases.map(async ([args]) => await run(args)))
    results.forEach((r, i) => {
      const [args, stderr] = cases[i] as [string[], RegExp]
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr, args.join(' ')).toMatch(stderr)
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1)
      expect(r.stdout, args.join(' ')).toBe('')
    })
    // The refused stamp left the certificate as it was.
    expect(await readFile(`${file('a.txt')}.trustnet.json`, 'utf8')).toBe(before)
    const help = await Promise.all(['stamp', 'verify', 'check'].map(async command => await run([command, '--help'])))
    for (const h of help) {
      expect(h.code).toBe(0)
      expect(h.stdout).toContain('--json')
    }
  })

  it('says tampered once the service\'s stored copy changes behind its back: exit 1', async () => {
    const certFile = `${file('b.pdf')}.trustnet.json`
    const cert = JSON.parse(await readFile(certFile, 'utf8')) as { record: { dataHash: string } }
    const verdict = verifyCertificate(cluster.genesis, certificateFromJson(JSON.parse(await readFile(certFile, 'utf8'))))
    if (!verdict.valid) throw new Error('the stamped certificate must be valid')
    await cluster.stopService()
    const db = new Level<Uint8Array, Uint8Array>(join(cluster.serviceDataDir, 'store'), { keyEncoding: 'view', valueEncoding: 'view' })
    await db.put(dataKey(fromHex(verdict.entry)), new TextEncoder().encode('%PDF-1.4 the second document, quietly rewritten\n'))
    await db.close()
    await cluster.startService()
    // The settings from the default config file this time (under XDG_CONFIG_HOME).
    await mkdir(join(dir, 'config', 'trustnet'), { recursive: true })
    await writeFile(join(dir, 'config', 'trustnet', 'client.json'), JSON.stringify({ url: cluster.serviceUrl, apiKey: cluster.apiKey, genesis: cluster.genesisFile }))
    const [r, human, other] = await Promise.all([run(['verify', file('b.pdf'), '--json']), run(['verify', file('b.pdf')]), run(['verify', file('a.txt')])])
    expect(r.code, r.stderr).toBe(1)
    const [out] = lines(r.stdout)
    expect(out).toMatchObject({ intact: false, reason: 'STORED_DATA_CHANGED', id: verdict.entry, dataHash: cert.record.dataHash, fileHash: cert.record.dataHash })
    expect(out?.storedHash).not.toBe(cert.record.dataHash)
    // A quorum of validators signed that another entry is anchored there than the one the changed bytes make.
    expect((out?.attestedBy as string[]).length).toBeGreaterThanOrEqual(3)
    expect(human.code).toBe(1)
    expect(human.stdout).toMatch(/b\.pdf: TAMPERED \[STORED_DATA_CHANGED\]/)
    // The other file is still intact.
    expect(other.code, other.stderr).toBe(0)
  })
})

describe('client settings', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'trustnet-client-config-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('takes a flag over the environment over the config file, the file\'s genesis relative to it', async () => {
    const config = join(dir, 'client.json')
    await writeFile(config, JSON.stringify({ url: 'http://file:1', apiKey: 'file-key', genesis: 'g.json' }))
    const env = { TRUSTNET_URL: 'http://env:1', XDG_CONFIG_HOME: join(dir, 'none') }
    expect(await resolveSettings({ config }, env)).toEqual({ url: 'http://env:1', apiKey: 'file-key', genesis: join(dir, 'g.json') })
    const pin = 'ab'.repeat(32)
    await writeFile(config, JSON.stringify({ pin: pin.toUpperCase() }))
    expect(await resolveSettings({ config }, env)).toMatchObject({ pin })
    expect(await resolveSettings({ config }, { ...env, TRUSTNET_GENESIS_PIN: 'cd'.repeat(32) })).toMatchObject({ pin: 'cd'.repeat(32) })
    await writeFile(config, JSON.stringify({ url: 'http://file:1', apiKey: 'file-key', genesis: 'g.json' }))
    expect(await resolveSettings({ config, url: 'http://flag:1', apiKey: 'flag-key' }, env)).toMatchObject({ url: 'http://flag:1', apiKey: 'flag-key' })
    // No --config and no default file: nothing is set, and nothing fails until a setting is needed.
    expect(await resolveSettings({}, { XDG_CONFIG_HOME: join(dir, 'none') })).toEqual({ url: undefined, apiKey: undefined, genesis: undefined })
    expect(existsSync(join(dir, 'none'))).toBe(false)
  })

  it('refuses a config file with an unknown or malformed field', async () => {
    const config = join(dir, 'bad.json')
    await writeFile(config, JSON.stringify({ url: 'not a url' }))
    await expect(resolveSettings({ config }, {})).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
    await writeFile(config, JSON.stringify({ apikey: 'misspelt' }))
    await expect(resolveSettings({ config }, {})).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
  })
})

describe('counting the validators\' attestations for a certificate', () => {
  const net = makeNetwork(4)
  const entries = makeEntries(2)
  const { block, commit } = makeCommittedBlock(net, [makeSubmission(net, entries)])
  const cert = buildCertificate(block, commit, 1, makeRecord(1), testSalt(1))
  const entry = toHex(entries[1] as Uint8Array)
  const other = makeEntry(7)
  const attest = (validator: number, fields: Partial<Omit<Attestation, 'signature' | 'validator'>> = {}, seed = net.seeds[validator] as Uint8Array): Json =>
    toJson(signAttestation({ chainId: net.genesis.chainId, entry: entries[1] as Uint8Array, height: 1, index: 1, anchored: entries[1] as Uint8Array, outcome: 'match', validator, time: 0, ...fields }, seed))

  const place = { height: cert.header.height, index: cert.proof.index }

  it('counts each validator once, and only valid signatures about the certificate\'s own entry and place', () => {
    const tally = tallyAttestations(net.genesis, entry, [
      attest(0), attest(0), attest(1),
      attest(2, {}, net.seeds[0]), // signed by another validator's key
      attest(3, { index: 0, anchored: entries[0] as Uint8Array }), // about another leaf
      attest(3, { height: 2 }), // the same entry claimed at another height
      attest(3, { chainId: 'other-chain' }),
      { not: 'an attestation' }
    ], { place })
    expect(tally).toEqual({ intact: false, matches: 2, matchedBy: [0, 1], mismatchedBy: [], quorum: 3, place, rejected: 6 })
  })

  it('counts signed mismatches only when the anchored entry is the certificate\'s and the presented one differs', () => {
    const tally = tallyAttestations(net.genesis, entry, [
      attest(0, { entry: other, outcome: 'mismatch' }),
      attest(1, { entry: other, outcome: 'mismatch' }),
      attest(2, { entry: other, anchored: other, outcome: 'mismatch' }),
      attest(3, { outcome: 'mismatch' })
    ], { place })
    expect(tally).toEqual({ intact: false, matches: 0, matchedBy: [], mismatchedBy: [0, 1], quorum: 3, place, rejected: 2 })
  })

  it('without an expected place, takes the place with the most matches', () => {
    const tally = tallyAttestations(net.genesis, entry, [attest(0, { height: 2 }), attest(1), attest(2), attest(3)])
    expect([tally.intact, tally.place, tally.matchedBy]).toEqual([true, place, [1, 2, 3]])
  })
})
