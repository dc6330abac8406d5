/**
 * A network formed by independent operators, none of whom holds another's key: each validator
 * (and each service) generates its own key (`keygen`), one person assembles the genesis from the
 * public keys alone (`genesis`), and each operator makes the node home from their own key and that
 * genesis (`node-home`). Every refusal is a ConfigError with a stable code.
 */
import { randomBytes } from 'node:crypto'
import { chmod, copyFile, readFile, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ed25519 } from '@noble/curves/ed25519.js'
import { multiaddr } from '@multiformats/multiaddr'
import { validate } from '../consensus/codec.js'
import { defaultEd25519 } from '../consensus/ed25519.js'
import { toJson } from '../consensus/json.js'
import { DEFAULT_PARAMS, GenesisSchema, type Genesis } from '../consensus/types.js'
import { TrustnetError } from '../consensus/errors.js'
import { ConfigError } from '../lib/json-file.js'
import { makePrivateDir, PRIVATE_FILE_MODE, writePrivateFile } from '../lib/private-files.js'
import { isSealedKey, keyFilePublicKey, openKeyJson, sealSeed, type PassphraseSource, type ScryptParams } from '../lib/sealed-key.js'
import { peerIdFromEd25519PublicKey } from '../net/host.js'
import { readGenesis, type NodeConfig } from '../node/config.js'

/** The key file `keygen` writes into its directory: the secret seed, readable by its owner only, sealed when a passphrase is given. */
export const KEY_FILE = 'key.json'

export interface PublicIdentity { publicKey: string, peerId: string }

const HEX_KEY = /^[0-9a-f]{64}$/

function identity (seed: Uint8Array): PublicIdentity {
  const pub = defaultEd25519.publicKey(seed)
  return { publicKey: Buffer.from(pub).toString('hex'), peerId: peerIdFromEd25519PublicKey(pub) }
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

export interface KeygenOptions {
  /** Seal the seed with this passphrase (lib/sealed-key.ts); absent: the seed is written in clear. */
  passphrase?: string
  /** scrypt's cost for the seal (tests use a cheap one). */
  scrypt?: ScryptParams
}

/** Generate a key into DIR/key.json (0600, DIR 0700 when created); never overwrites one. */
export async function keygen (dir: string, options: KeygenOptions = {}): Promise<PublicIdentity & { keyFile: string, sealed: boolean }> {
  const keyFile = join(dir, KEY_FILE)
  if (await exists(keyFile)) throw new ConfigError('KEY_EXISTS', `${keyFile} already exists; a key is never overwritten`, { file: keyFile })
  const seed = new Uint8Array(randomBytes(32))
  const id = identity(seed)
  const sealed = options.passphrase !== undefined
  // Sealed before anything is written: an empty passphrase leaves no directory behind.
  const body = sealed
    ? sealSeed(seed, options.passphrase as string, { peerId: id.peerId, ...(options.scrypt !== undefined ? { scrypt: options.scrypt } : {}) })
    : { seed: Buffer.from(seed).toString('hex'), ...id }
  await makePrivateDir(dir, { keepExisting: true })
  try {
    await writePrivateFile(keyFile, JSON.stringify(body, null, 2) + '\n', { exclusive: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConfigError('KEY_EXISTS', `${keyFile} already exists; a key is never overwritten`, { file: keyFile })
    throw err
  }
  return { ...id, keyFile, sealed }
}

async function readKeyJson (file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new ConfigError('INVALID_KEY', `cannot read the key file ${file}: ${(err as Error).message}`, { file }, { cause: err })
  }
}

/** The public half of a key file written by keygen, clear or sealed (a sealed one needs no passphrase for this). */
export async function readKeyIdentity (file: string): Promise<PublicIdentity & { sealed: boolean }> {
  const json = await readKeyJson(file)
  const pub = Buffer.from(keyFilePublicKey(json, file), 'hex')
  return { publicKey: pub.toString('hex'), peerId: peerIdFromEd25519PublicKey(pub), sealed: isSealedKey(json) }
}

/** The seed in a key file written by keygen, checked against the public key beside it; a sealed one asks `passphrase`. */
export async function readKeyFile (file: string, passphrase: PassphraseSource = {}): Promise<{ seed: Uint8Array } & PublicIdentity> {
  const seed = openKeyJson(await readKeyJson(file), file, passphrase)
  return { seed, ...identity(seed) }
}

/** NAME=PUBKEY as given on the command line. */
export interface NamedKey { name: string, publicKey: string }

export function parseNamedKey (value: string): NamedKey {
  const at = value.indexOf('=')
  if (at <= 0) throw new ConfigError('INVALID_ARGUMENT', `"${value}" is not NAME=PUBLIC_KEY`)
  const name = value.slice(0, at)
  const publicKey = value.slice(at + 1).toLowerCase()
  if (!HEX_KEY.test(publicKey)) throw new ConfigError('INVALID_KEY', `${name}: a public key is 64 hex characters (as keygen prints)`, { name })
  try {
    // A string of the right length may still not be a point on the curve: nothing could verify its signatures.
    ed25519.Point.fromHex(publicKey)
  } catch {
    throw new ConfigError('INVALID_KEY', `${name}: ${publicKey} is not an ed25519 public key`, { name })
  }
  return { name, publicKey }
}

export interface GenesisOptions {
  chainId: string
  validators: NamedKey[]
  services: NamedKey[]
  genesisTime?: number
}

/** A genesis from public keys only; refuses a repeated name or key anywhere in it. */
export function assembleGenesis (options: GenesisOptions): Genesis {
  if (options.validators.length === 0) throw new ConfigError('INVALID_ARGUMENT', 'a genesis needs at least one validator')
  const names = new Set<string>()
  const keys = new Map<string, string>()
  for (const { name, publicKey } of [...options.validators, ...options.services]) {
    if (names.has(name)) throw new ConfigError('DUPLICATE_NAME', `the name ${name} is given twice`, { name })
    names.add(name)
    const other = keys.get(publicKey)
    // A key held twice would let one operator count as two.
    if (other !== undefined) throw new ConfigError('DUPLICATE_KEY', `${name} has the same public key as ${other}`, { name, other })
    keys.set(publicKey, name)
  }
  const bytes = (k: NamedKey): { name: string, publicKey: Uint8Array } => ({ name: k.name, publicKey: Buffer.from(k.publicKey, 'hex') })
  try {
    return validate(GenesisSchema, {
      chainId: options.chainId,
      genesisTime: options.genesisTime ?? Date.now(),
      validators: options.validators.map(bytes),
      services: options.services.map(bytes),
      params: DEFAULT_PARAMS
    })
  } catch (err) {
    if (err instanceof TrustnetError) throw new ConfigError('INVALID_ARGUMENT', `the genesis is refused: ${err.message}`, { reason: err.code }, { cause: err })
    throw err
  }
}

/** Write a genesis file (public: 0644); an existing file only with `force`. */
export async function writeGenesis (file: string, genesis: Genesis, force = false): Promise<void> {
  try {
    await writeFile(file, JSON.stringify(toJson(genesis), null, 2) + '\n', { flag: force ? 'w' : 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConfigError('FILE_EXISTS', `${file} already exists; use --force to overwrite it`, { file })
    throw err
  }
}

export interface NodeHomeOptions {
  keyFile: string
  genesisFile: string
  out: string
  /** The p2p multiaddr this validator listens on. */
  listen: string
  http: { host: string, port: number }
  /** Each other validator as NAME=MULTIADDR (its genesis name; the peer id is derived) or a multiaddr ending /p2p/PEER_ID. */
  peers: string[]
  force?: boolean
}

/**
 * A validator home from its own key and the network's genesis: DIR/node.json (0600, DIR 0700) and a
 * copy of the genesis beside it. The validator's index is where its key sits in the genesis. A
 * clear key's seed goes into node.json; a sealed key is copied beside it as DIR/key.json (0600) and
 * stays sealed: the node asks for its passphrase when it starts (docs/configuration.md).
 */
export async function makeNodeHome (options: NodeHomeOptions): Promise<{ index: number, file: string }> {
  const key = await readKeyIdentity(options.keyFile)
  const genesis = await readGenesis(options.genesisFile)
  const peerIds = genesis.validators.map(v => peerIdFromEd25519PublicKey(v.publicKey))
  const index = peerIds.indexOf(key.peerId)
  if (index < 0) throw new ConfigError('NOT_IN_GENESIS', `the key in ${options.keyFile} is not a validator of ${options.genesisFile}`, { file: options.keyFile })
  checkMultiaddr(options.listen, '--listen')
  const peers = options.peers.map(p => peerAddress(p, genesis, peerIds, index))
  const file = join(options.out, 'node.json')
  if (options.force !== true && await exists(file)) throw new ConfigError('FILE_EXISTS', `${file} already exists; use --force to overwrite it`, { file })
  const config: NodeConfig = {
    index,
    ...(key.sealed ? { keyFile: KEY_FILE } : { seed: Buffer.from((await readKeyFile(options.keyFile)).seed).toString('hex') }),
    listen: options.listen,
    http: options.http,
    peers,
    genesis: 'genesis.json',
    dataDir: 'data'
  }
  await makePrivateDir(options.out)
  await writeGenesis(join(options.out, 'genesis.json'), genesis, true)
  if (key.sealed) await copyPrivateFile(options.keyFile, join(options.out, KEY_FILE))
  await writePrivateFile(file, JSON.stringify(config, null, 2) + '\n')
  return { index, file }
}

async function copyPrivateFile (from: string, to: string): Promise<void> {
  if (resolve(from) === resolve(to)) return
  await copyFile(from, to)
  await chmod(to, PRIVATE_FILE_MODE)
}

function checkMultiaddr (value: string, what: string): void {
  try {
    multiaddr(value)
  } catch (err) {
    throw new ConfigError('INVALID_ARGUMENT', `${what}: ${value} is not a multiaddr (e.g. /ip4/10.0.0.2/tcp/7100)`, { value }, { cause: err })
  }
}

/** A peer's dialable address with its peer id, which must be another validator of the genesis. */
function peerAddress (value: string, genesis: Genesis, peerIds: string[], self: number): string {
  const at = value.indexOf('=')
  let address: string
  let index: number
  if (at > 0 && !value.startsWith('/')) {
    const name = value.slice(0, at)
    index = genesis.validators.findIndex(v => v.name === name)
    if (index < 0) throw new ConfigError('NOT_IN_GENESIS', `--peers: ${name} is not a validator of the genesis`, { name })
    address = `${value.slice(at + 1)}/p2p/${peerIds[index] as string}`
  } else {
    address = value
    const id = /\/p2p\/([^/]+)$/.exec(value)?.[1]
    if (id === undefined) throw new ConfigError('INVALID_ARGUMENT', `--peers: ${value} must be NAME=MULTIADDR or end in /p2p/PEER_ID`, { value })
    index = peerIds.indexOf(id)
    if (index < 0) throw new ConfigError('NOT_IN_GENESIS', `--peers: ${id} is not a validator of the genesis`, { value })
  }
  if (index === self) throw new ConfigError('INVALID_ARGUMENT', `--peers: ${value} is this validator itself`, { value })
  checkMultiaddr(address, '--peers')
  return address
}
