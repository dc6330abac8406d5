/**
 * The genesis fingerprint: the lowercase hex of the genesis hash (ids.ts genesisHash), the very
 * value every header of the network carries as `genesisHash`. Someone who got the fingerprint
 * from a source they trust (the operators, a printed page) pins it, and a genesis file that does
 * not hash to it is refused however it was obtained: a copied genesis with the same chain id and
 * other validator keys cannot pass for the network's.
 */
import { invalid } from './errors.js'
import { genesisHash, toHex } from './ids.js'
import type { Genesis } from './types.js'

const FINGERPRINT = /^[0-9a-f]{64}$/

export function genesisFingerprint (genesis: Genesis): string {
  return toHex(genesisHash(genesis))
}

/** A pin as a person may give it (upper or lower case, spaces around); throws INVALID_PIN unless it is 32 bytes of hex. */
export function parseFingerprint (text: string): string {
  const pin = typeof text === 'string' ? text.trim().toLowerCase() : ''
  if (!FINGERPRINT.test(pin)) throw invalid('INVALID_PIN', 'a genesis fingerprint is 64 hex characters (the genesis hash)')
  return pin
}

/** Throws GENESIS_PIN_MISMATCH unless `genesis` hashes to `pin` (INVALID_PIN when the pin is not a fingerprint). */
export function checkGenesisPin (genesis: Genesis, pin: string): void {
  const expected = parseFingerprint(pin)
  const actual = genesisFingerprint(genesis)
  if (actual !== expected) {
    throw invalid('GENESIS_PIN_MISMATCH', `the genesis has fingerprint ${actual}, the pinned one is ${expected}`, { fingerprint: actual, pin: expected })
  }
}
