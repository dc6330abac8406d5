/**
 * The one place that signs and verifies. Two interchangeable ed25519 backends: @noble/curves
 * (portable: browsers, the client library) and node:crypto (10x faster, for the node's hot path),
 * producing and accepting the same signatures. `verify` never throws on peer input.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from './hash.js'
import { toHex } from './ids.js'
import { LIMITS } from './limits.js'
import { BoundedMap } from '../lib/bounded-map.js'

export interface Ed25519 {
  readonly name: string
  publicKey (seed: Uint8Array): Uint8Array
  sign (seed: Uint8Array, message: Uint8Array): Uint8Array
  verify (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean
}

function wellFormed (publicKey: Uint8Array, signature: Uint8Array): boolean {
  return publicKey instanceof Uint8Array && signature instanceof Uint8Array &&
    publicKey.length === LIMITS.publicKeyBytes && signature.length === LIMITS.signatureBytes
}

export const nobleEd25519: Ed25519 = {
  name: 'noble',
  publicKey: seed => ed25519.getPublicKey(seed),
  sign: (seed, message) => ed25519.sign(message, seed),
  verify (publicKey, message, signature) {
    if (!wellFormed(publicKey, signature)) return false
    try {
      // Strict RFC 8032 decoding (no ZIP-215 leniency), so both backends accept exactly the same signatures.
      return ed25519.verify(signature, message, publicKey, { zip215: false })
    } catch {
      return false
    }
  }
}

type NodeCrypto = typeof import('node:crypto')
type KeyObject = import('node:crypto').KeyObject

// DER prefixes that wrap a raw 32-byte ed25519 seed (PKCS#8) or public key (SPKI).
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
const KEY_CACHE_LIMIT = 4096

/** node:crypto backend; caches KeyObjects because importing a key costs as much as a verify. */
export function nodeEd25519 (crypto: NodeCrypto): Ed25519 {
  const privateKeys = new BoundedMap<string, KeyObject>(KEY_CACHE_LIMIT)
  const publicKeys = new BoundedMap<string, KeyObject>(KEY_CACHE_LIMIT)
  const cached = (cache: BoundedMap<string, KeyObject>, raw: Uint8Array, make: () => KeyObject): KeyObject => {
    const id = Buffer.from(raw).toString('hex')
    let key = cache.get(id)
    if (key === undefined) {
      key = make()
      cache.set(id, key)
    }
    return key
  }
  const privateKey = (seed: Uint8Array) => cached(privateKeys, seed, () =>
    crypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }))
  return {
    name: 'node',
    publicKey (seed) {
      const der = crypto.createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' })
      return new Uint8Array(der.subarray(SPKI_PREFIX.length))
    },
    sign: (seed, message) => new Uint8Array(crypto.sign(null, message, privateKey(seed))),
    verify (publicKey, message, signature) {
      if (!wellFormed(publicKey, signature)) return false
      try {
        const key = cached(publicKeys, publicKey, () =>
          crypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' }))
        return crypto.verify(null, message, key, signature)
      } catch {
        return false
      }
    }
  }
}

/** Keys of small order verify forged signatures (R = identity, S = 0) for any message: no validator may have one. */
export function isWeakPublicKey (publicKey: Uint8Array): boolean {
  try {
    return ed25519.Point.fromBytes(publicKey, false).isSmallOrder()
  } catch {
    return true // not a point at all
  }
}

// The specifier is a variable so that bundlers for the browser leave the import out: it only runs under Node.
const NODE_CRYPTO = 'node:crypto'
const nodeCrypto: NodeCrypto | undefined =
  typeof globalThis.process?.versions?.node === 'string' ? await import(/* @vite-ignore */ NODE_CRYPTO) as NodeCrypto : undefined

/** The fastest backend available here. */
export const defaultEd25519: Ed25519 = nodeCrypto != null ? nodeEd25519(nodeCrypto) : nobleEd25519

/**
 * `inner`, remembering the last `capacity` signatures it found valid (key, message and signature
 * compared in full). A validator checks a vote when gossip delivers it and again in the consensus
 * machine, and once more inside a commit; a submission when a service sends it and again in every
 * block proposed with it; each later check is a lookup. Failures are not remembered, and nothing
 * here depends on time, so the machine stays deterministic.
 */
export function rememberingEd25519 (inner: Ed25519, capacity = 8192): Ed25519 {
  // Keyed by public key and signature, with the message's SHA-256 kept beside to compare: a
  // submission's message is tens of kilobytes, too much to keep thousands of (or to key a map by:
  // V8 hashes strings that long by their length alone).
  const valid = new BoundedMap<string, Uint8Array>(capacity)
  return {
    name: `${inner.name} (remembering)`,
    publicKey: seed => inner.publicKey(seed),
    sign: (seed, message) => inner.sign(seed, message),
    verify: (publicKey, message, signature) => {
      if (!wellFormed(publicKey, signature)) return false
      const key = toHex(publicKey) + toHex(signature)
      const digest = sha256(message)
      const known = valid.get(key)
      if (known !== undefined && equalDigests(known, digest)) return true
      if (!inner.verify(publicKey, message, signature)) return false
      valid.set(key, digest)
      return true
    }
  }
}

function equalDigests (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
