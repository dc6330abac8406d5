/**
 * Byte arrays for the hot path. V8 keeps typed arrays of up to 64 bytes on its own heap, almost
 * free to make; each larger one gets a backing store of its own, which costs about 1 µs to
 * allocate and more to sweep. Under Node, larger arrays are cut from Buffer's shared pool instead
 * (as plain Uint8Array views, about 0.2 µs). Meant for short-lived bytes (encodings on their way
 * to a hash, a store write or a socket): a pooled view keeps its whole 8 KiB pool slab alive.
 */
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer
const ON_HEAP_BYTES = 64

/** `n` bytes, uninitialised when pooled: the caller fills them all. */
export function allocBytes (n: number): Uint8Array {
  if (n <= ON_HEAP_BYTES || NodeBuffer === undefined) return new Uint8Array(n)
  const pooled = NodeBuffer.allocUnsafe(n)
  return new Uint8Array(pooled.buffer, pooled.byteOffset, n)
}

/** A copy of `bytes`, allocated as allocBytes does. */
export function copyBytes (bytes: Uint8Array): Uint8Array {
  const out = allocBytes(bytes.length)
  out.set(bytes)
  return out
}
