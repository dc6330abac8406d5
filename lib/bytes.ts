/**
 * Store keys (a prefix byte, then fixed-width parts), built here for the validators' and the
 * service's LevelDB alike.
 */

/** A LevelDB key: one prefix byte, then `parts` back to back. */
export function prefixedKey (prefix: number, ...parts: Uint8Array[]): Uint8Array {
  const key = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0))
  key[0] = prefix
  let at = 1
  for (const p of parts) { key.set(p, at); at += p.length }
  return key
}

/** `n` as 8 big-endian bytes, so that keys sort by it. */
export function uint64BE (n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${n} is not a non-negative safe integer`)
  const out = new Uint8Array(8)
  // Byte by byte from two 32-bit halves: a BigInt or a DataView per key cost more than the rest of the key.
  const high = Math.floor(n / 0x1_0000_0000)
  const low = n >>> 0
  out[0] = high >>> 24
  out[1] = high >>> 16
  out[2] = high >>> 8
  out[3] = high
  out[4] = low >>> 24
  out[5] = low >>> 16
  out[6] = low >>> 8
  out[7] = low
  return out
}
