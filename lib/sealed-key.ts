/**
 * Key files, clear or sealed with a passphrase. A clear key file holds the 32-byte ed25519 seed in
 * hex (`{ seed, publicKey, peerId }`, readable by its owner only); a sealed one holds it encrypted
 * with AES-256-GCM under a key derived from the passphrase by scrypt, with the salt and scrypt's
 * parameters stored beside it, so someone with the disk but not the passphrase learns only the
 * public key. Opening a sealed key tells a wrong passphrase (KEY_PASSPHRASE_WRONG) from a changed
 * file (KEY_TAMPERED) and from a missing passphrase (KEY_PASSPHRASE_MISSING). The passphrase comes
 * from a file the operator names or from the environment variable TRUSTNET_KEY_PASSPHRASE.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ed25519 } from '@noble/curves/ed25519.js'
import { z } from 'zod'
import { ConfigError } from './json-file.js'

export const KEY_PASSPHRASE_ENV = 'TRUSTNET_KEY_PASSPHRASE'
export const SEALED_KEY_FORMAT = 'trustnet-sealed-key'

export interface ScryptParams { N: number, r: number, p: number }
/** 128 MiB and about a second of one core per try: what each guess at the passphrase costs too. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 }

/** scrypt's memory is 128 · N · r bytes: a file may not ask for more than this (nor for a weak key). */
const MAX_SCRYPT_BYTES = 1024 * 1024 * 1024
const MIN_N = 2 ** 10

const hex = (bytes: number): z.ZodString => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `must be ${bytes * 2} lowercase hex characters`)

const SealedKeySchema = z.strictObject({
  format: z.literal(SEALED_KEY_FORMAT),
  version: z.literal(1),
  publicKey: hex(32),
  /** Written for the operator's convenience; derived from the public key, not checked here. */
  peerId: z.string().optional(),
  kdf: z.strictObject({
    name: z.literal('scrypt'),
    salt: hex(16),
    N: z.number().int().min(MIN_N).refine(n => (n & (n - 1)) === 0, 'must be a power of two'),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16)
  }).refine(k => 128 * k.N * k.r <= MAX_SCRYPT_BYTES, 'asks scrypt for more than 1 GiB of memory'),
  cipher: z.strictObject({ name: z.literal('aes-256-gcm'), iv: hex(12), tag: hex(16) }),
  /** SHA-256 of the second half of scrypt's output: tells a wrong passphrase from a changed file. */
  check: hex(32),
  /** The seed, encrypted. */
  sealed: hex(32)
})
export type SealedKey = z.infer<typeof SealedKeySchema>

const ClearKeySchema = z.object({
  seed: hex(32),
  publicKey: hex(32).optional()
})

/** Where a sealed key's passphrase comes from: a file the operator named, else the environment. */
export interface PassphraseSource {
  file?: string
  env?: NodeJS.ProcessEnv
}

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

function derive (passphrase: string, salt: Buffer, params: ScryptParams): { key: Buffer, check: Buffer } {
  const { N, r, p } = params
  const out = scryptSync(passphrase.normalize('NFC'), salt, 64, { N, r, p, maxmem: 2 * 128 * N * r })
  return { key: out.subarray(0, 32), check: createHash('sha256').update(out.subarray(32)).digest() }
}

/** The fields the cipher authenticates besides the seed: a changed public key or format is a changed file. */
function associatedData (k: Pick<SealedKey, 'format' | 'version' | 'publicKey'>): Buffer {
  return Buffer.from(JSON.stringify([k.format, k.version, k.publicKey]), 'utf8')
}

/** `seed` encrypted under `passphrase`; the public key (and the peer id, if given) stay readable beside it. */
export function sealSeed (seed: Uint8Array, passphrase: string, options: { peerId?: string, scrypt?: ScryptParams } = {}): SealedKey {
  if (passphrase === '') throw new ConfigError('KEY_PASSPHRASE_MISSING', 'the passphrase is empty')
  const params = options.scrypt ?? DEFAULT_SCRYPT
  const salt = randomBytes(16)
  const iv = randomBytes(12)
  const { key, check } = derive(passphrase, salt, params)
  const head = { format: SEALED_KEY_FORMAT, version: 1, publicKey: toHex(ed25519.getPublicKey(seed)) } as const
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(associatedData(head))
  const sealed = Buffer.concat([cipher.update(seed), cipher.final()])
  return {
    ...head,
    ...(options.peerId !== undefined ? { peerId: options.peerId } : {}),
    kdf: { name: 'scrypt', salt: toHex(salt), ...params },
    cipher: { name: 'aes-256-gcm', iv: toHex(iv), tag: toHex(cipher.getAuthTag()) },
    check: toHex(check),
    sealed: toHex(sealed)
  }
}

export function isSealedKey (json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as { format?: unknown }).format === SEALED_KEY_FORMAT
}

/** The public key a key file (clear or sealed) names, without its passphrase; `source` names it in errors. */
export function keyFilePublicKey (json: unknown, source: string): string {
  if (isSealedKey(json)) return parseSealed(json, source).publicKey
  return toHex(ed25519.getPublicKey(openClearSeed(json, source)))
}

/** The seed in a sealed key; KEY_PASSPHRASE_WRONG, KEY_TAMPERED or INVALID_KEY otherwise. */
export function unsealSeed (json: unknown, passphrase: string, source: string): Uint8Array {
  const k = parseSealed(json, source)
  const { key, check } = derive(passphrase, Buffer.from(k.kdf.salt, 'hex'), k.kdf)
  // A changed salt or scrypt parameter also lands here: it cannot be told from another passphrase.
  if (!timingSafeEqual(check, Buffer.from(k.check, 'hex'))) throw new ConfigError('KEY_PASSPHRASE_WRONG', `${source}: wrong passphrase`, { file: source })
  let seed: Buffer
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(k.cipher.iv, 'hex')).setAAD(associatedData(k)).setAuthTag(Buffer.from(k.cipher.tag, 'hex'))
    seed = Buffer.concat([decipher.update(Buffer.from(k.sealed, 'hex')), decipher.final()])
  } catch (err) {
    throw new ConfigError('KEY_TAMPERED', `${source}: the passphrase is right but the sealed key was changed`, { file: source }, { cause: err })
  }
  // Authenticated already; a file sealed by something else with a mismatched public key is refused all the same.
  if (toHex(ed25519.getPublicKey(seed)) !== k.publicKey) throw new ConfigError('KEY_TAMPERED', `${source}: the public key does not belong to the sealed seed`, { file: source })
  return new Uint8Array(seed)
}

/** The passphrase from `source.file` (one trailing newline dropped) or else the environment; undefined if neither gives one. */
export function readPassphrase (source: PassphraseSource = {}): string | undefined {
  if (source.file !== undefined) {
    let text: string
    try {
      text = readFileSync(source.file, 'utf8')
    } catch (err) {
      throw new ConfigError('KEY_PASSPHRASE_MISSING', `cannot read the passphrase file ${source.file}: ${(err as Error).message}`, { file: source.file }, { cause: err })
    }
    const passphrase = text.replace(/\r?\n$/, '')
    if (passphrase === '') throw new ConfigError('KEY_PASSPHRASE_MISSING', `the passphrase file ${source.file} is empty`, { file: source.file })
    return passphrase
  }
  const env = (source.env ?? process.env)[KEY_PASSPHRASE_ENV]
  return env === undefined || env === '' ? undefined : env
}

/** The seed in a key file's JSON, clear or sealed; the passphrase is read only for a sealed one. */
export function openKeyJson (json: unknown, source: string, passphrase: PassphraseSource = {}): Uint8Array {
  if (!isSealedKey(json)) return openClearSeed(json, source)
  const given = readPassphrase(passphrase)
  if (given === undefined) {
    throw new ConfigError('KEY_PASSPHRASE_MISSING', `${source} is sealed with a passphrase: name a passphrase file (keyPassphraseFile) or set ${KEY_PASSPHRASE_ENV}`, { file: source })
  }
  return unsealSeed(json, given, source)
}

/** The seed in the key file `file` (as keygen writes it), clear or sealed. */
export function readSeedFile (file: string, passphrase: PassphraseSource = {}): Uint8Array {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new ConfigError('INVALID_KEY', `cannot read the key file ${file}: ${(err as Error).message}`, { file }, { cause: err })
  }
  return openKeyJson(json, file, passphrase)
}

function parseSealed (json: unknown, source: string): SealedKey {
  const parsed = SealedKeySchema.safeParse(json)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  throw new ConfigError('INVALID_KEY', `${source}: not a sealed key: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trimEnd(), { file: source })
}

function openClearSeed (json: unknown, source: string): Uint8Array {
  const parsed = ClearKeySchema.safeParse(json)
  if (!parsed.success) throw new ConfigError('INVALID_KEY', `${source}: seed must be 64 lowercase hex characters`, { file: source })
  const seed = new Uint8Array(Buffer.from(parsed.data.seed, 'hex'))
  if (parsed.data.publicKey !== undefined && parsed.data.publicKey !== toHex(ed25519.getPublicKey(seed))) {
    throw new ConfigError('INVALID_KEY', `${source}: the public key does not belong to the seed`, { file: source })
  }
  return seed
}
