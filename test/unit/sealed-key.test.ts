import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ed25519 } from '@noble/curves/ed25519.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { peerIdFromEd25519PublicKey } from '../../net/host.js'
import { parseConfig } from '../../service/config.js'
import { KEY_PASSPHRASE_ENV, keyFilePublicKey, openKeyJson, readSeedFile, sealSeed, unsealSeed, type SealedKey } from '../../lib/sealed-key.js'

// A cheap scrypt: the format and the checks are the same at any cost.
const CHEAP = { N: 2 ** 10, r: 8, p: 1 }
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}
/** The same hex string with its first character changed. */
const flip = (s: string): string => (s[0] === '0' ? '1' : '0') + s.slice(1)

describe('sealed keys', () => {
  const seed = new Uint8Array(randomBytes(32))
  const sealed = sealSeed(seed, 'correct horse', { scrypt: CHEAP, peerId: 'peer' })
  let dir = ''
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'trustnet-sealed-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('round trip: the passphrase opens the seed; the file shows the public key but not the seed', () => {
    expect(hex(unsealSeed(sealed, 'correct horse', 'k'))).toBe(hex(seed))
    expect(keyFilePublicKey(sealed, 'k')).toBe(hex(ed25519.getPublicKey(seed)))
    expect(JSON.stringify(sealed)).not.toContain(hex(seed))
    // Fresh salt and iv each time: one seed sealed twice gives unrelated files.
    const again = sealSeed(seed, 'correct horse', { scrypt: CHEAP })
    expect(again.sealed).not.toBe(sealed.sealed)
    expect(again.kdf.salt).not.toBe(sealed.kdf.salt)
  })

  it('a wrong passphrase is KEY_PASSPHRASE_WRONG; none, or an empty one, is KEY_PASSPHRASE_MISSING', async () => {
    expect(codeOf(() => unsealSeed(sealed, 'correct horsE', 'k'))).toBe('KEY_PASSPHRASE_WRONG')
    expect(codeOf(() => openKeyJson(sealed, 'k', { env: {} }))).toBe('KEY_PASSPHRASE_MISSING')
    expect(codeOf(() => openKeyJson(sealed, 'k', { env: { [KEY_PASSPHRASE_ENV]: '' } }))).toBe('KEY_PASSPHRASE_MISSING')
    expect(codeOf(() => openKeyJson(sealed, 'k', { file: join(dir, 'absent') }))).toBe('KEY_PASSPHRASE_MISSING')
    await writeFile(join(dir, 'empty'), '\n')
    expect(codeOf(() => openKeyJson(sealed, 'k', { file: join(dir, 'empty') }))).toBe('KEY_PASSPHRASE_MISSING')
    expect(codeOf(() => sealSeed(seed, '', { scrypt: CHEAP }))).toBe('KEY_PASSPHRASE_MISSING')
  })

  it('the passphrase comes from the named file (one trailing newline dropped) before the environment', async () => {
    const file = join(dir, 'pass')
    await writeFile(file, 'correct horse\n')
    expect(hex(openKeyJson(sealed, 'k', { file, env: { [KEY_PASSPHRASE_ENV]: 'something else' } }))).toBe(hex(seed))
    expect(hex(openKeyJson(sealed, 'k', { env: { [KEY_PASSPHRASE_ENV]: 'correct horse' } }))).toBe(hex(seed))
    await writeFile(file, 'correct horse\n\n')
    expect(codeOf(() => openKeyJson(sealed, 'k', { file }))).toBe('KEY_PASSPHRASE_WRONG')
  })

  it('a changed file is refused with KEY_TAMPERED when the passphrase is right, and never opens', () => {
    const other = hex(ed25519.getPublicKey(randomBytes(32)))
    const tampered: SealedKey[] = [
      { ...sealed, sealed: flip(sealed.sealed) },
      { ...sealed, cipher: { ...sealed.cipher, tag: flip(sealed.cipher.tag) } },
      { ...sealed, cipher: { ...sealed.cipher, iv: flip(sealed.cipher.iv) } },
      { ...sealed, publicKey: other }
    ]
    for (const k of tampered) expect(codeOf(() => unsealSeed(k, 'correct horse', 'k'))).toBe('KEY_TAMPERED')
    // scrypt's inputs change the derived key itself: that cannot be told from another passphrase.
    expect(codeOf(() => unsealSeed({ ...sealed, kdf: { ...sealed.kdf, salt: flip(sealed.kdf.salt) } }, 'correct horse', 'k'))).toBe('KEY_PASSPHRASE_WRONG')
    expect(codeOf(() => unsealSeed({ ...sealed, check: flip(sealed.check) }, 'correct horse', 'k'))).toBe('KEY_PASSPHRASE_WRONG')
  })

  it('a malformed sealed key, or one asking scrypt for too much, is INVALID_KEY before any work', () => {
    const bad: unknown[] = [
      { ...sealed, version: 2 },
      { ...sealed, sealed: sealed.sealed.slice(2) },
      { ...sealed, kdf: { ...sealed.kdf, N: 1000 } },
      { ...sealed, kdf: { ...sealed.kdf, N: 2 ** 24 } },
      { ...sealed, cipher: { ...sealed.cipher, name: 'aes-128-gcm' } },
      { ...sealed, extra: 1 },
      (({ check: _, ...rest }) => rest)(sealed)
    ]
    for (const k of bad) expect(codeOf(() => unsealSeed(k, 'correct horse', 'k'))).toBe('INVALID_KEY')
  })

  it('clear key files keep working without a passphrase; a mismatched public key is INVALID_KEY', async () => {
    const publicKey = hex(ed25519.getPublicKey(seed))
    const file = join(dir, 'clear.json')
    await writeFile(file, JSON.stringify({ seed: hex(seed), publicKey, peerId: 'peer' }))
    expect(hex(readSeedFile(file, { env: {} }))).toBe(hex(seed))
    expect(keyFilePublicKey({ seed: hex(seed) }, 'k')).toBe(publicKey)
    expect(codeOf(() => openKeyJson({ seed: hex(seed), publicKey: flip(publicKey) }, 'k'))).toBe('INVALID_KEY')
    expect(codeOf(() => openKeyJson({ seed: 'zz' }, 'k'))).toBe('INVALID_KEY')
    const sealedFile = join(dir, 'sealed.json')
    await writeFile(sealedFile, JSON.stringify(sealed))
    expect(hex(readSeedFile(sealedFile, { env: { [KEY_PASSPHRASE_ENV]: 'correct horse' } }))).toBe(hex(seed))
    expect(codeOf(() => readSeedFile(join(dir, 'absent.json')))).toBe('INVALID_KEY')
  })

  it('the service reads its key from a sealed key file with the passphrase file its config names', async () => {
    const keyFile = join(dir, 'service-key.json')
    await writeFile(keyFile, JSON.stringify(sealed))
    await writeFile(join(dir, 'service-pass'), 'correct horse')
    const peer = peerIdFromEd25519PublicKey(ed25519.getPublicKey(new Uint8Array(32).fill(7)))
    const base = { serviceId: 'svc', http: { port: 8080 }, dataDir: 'data', genesisPath: 'genesis.json', nodes: [`/ip4/127.0.0.1/tcp/4001/p2p/${peer}`], apiKeys: [{ keySha256: 'ab'.repeat(32), client: 'alice' }] }
    expect(hex(parseConfig({ ...base, keyFile: 'service-key.json', keyPassphraseFile: 'service-pass' }, dir).seed)).toBe(hex(seed))
    expect(codeOf(() => parseConfig({ ...base, keyFile: 'service-key.json', keyPassphraseFile: 'absent' }, dir))).toBe('KEY_PASSPHRASE_MISSING')
    expect(codeOf(() => parseConfig({ ...base, keyFile: 'service-key.json', seed: hex(seed) }, dir))).toBe('CONFIG_INVALID')
    expect(codeOf(() => parseConfig(base, dir))).toBe('CONFIG_INVALID')
  })
})
