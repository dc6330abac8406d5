/**
 * Inputs for the decoder fuzzers: random bytes, and valid encodings mutated the ways a hostile
 * peer or a bad disk would (bits flipped, bytes set, truncated, extended, cut out, spliced from
 * another valid encoding, the major type of a CBOR item head swapped). Every fuzz property runs
 * with a fixed seed, so a failure reproduces; FUZZ_RUNS=n runs each n times instead of its
 * default, and FUZZ_SEED picks another seed.
 */
import fc from 'fast-check'

const FUZZ_RUNS = Number.parseInt(process.env.FUZZ_RUNS ?? '', 10)
const FUZZ_SEED = Number.parseInt(process.env.FUZZ_SEED ?? '', 10)

/** fast-check's parameters for one property: `runs` in CI, FUZZ_RUNS when set. */
export function fuzzParams (runs: number): fc.Parameters<unknown> {
  return {
    numRuns: Number.isSafeInteger(FUZZ_RUNS) && FUZZ_RUNS > 0 ? FUZZ_RUNS : runs,
    seed: Number.isSafeInteger(FUZZ_SEED) ? FUZZ_SEED : 20_2020,
    endOnFailure: true
  }
}

/** Test timeout for a fuzz test whose CI runs take `ms`: scaled up with FUZZ_RUNS. */
export function fuzzTimeout (ms: number, runs: number): number {
  const scale = Number.isSafeInteger(FUZZ_RUNS) && FUZZ_RUNS > runs ? FUZZ_RUNS / runs : 1
  return Math.ceil(ms * scale) + 10_000
}

type Mutation =
  | { kind: 'flip', at: number, bit: number }
  | { kind: 'set', at: number, value: number }
  | { kind: 'truncate', at: number }
  | { kind: 'extend', bytes: Uint8Array }
  | { kind: 'insert', at: number, bytes: Uint8Array }
  | { kind: 'cut', at: number, length: number }
  | { kind: 'splice', at: number, from: number, other: number, length: number }
  | { kind: 'major', head: number, major: number }

const position = fc.nat()
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.constantFrom(0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x20, 0x40, 0x60, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb, 0xff) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: position, length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: position, from: position, other: position, length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('major' as const), head: position, major: fc.integer({ min: 0, max: 7 }) })
)

/** `bases` (valid encodings, at least one) mutated 1 to 4 times, or random bytes one time in eight. */
export function mutatedBytes (bases: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const mutated = fc.tuple(fc.nat({ max: bases.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([i, ops]) => ops.reduce((bytes, op) => apply(bytes, op, bases), bases[i] as Uint8Array))
  return fc.oneof({ arbitrary: mutated, weight: 7 }, { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 1 })
}

/** Mutations of JSON text: the byte mutations above over its UTF-8, read back as text where it is text. */
export function mutatedText (bases: readonly string[]): fc.Arbitrary<string> {
  const utf8 = new TextEncoder()
  const decoder = new TextDecoder()
  return fc.oneof(
    { arbitrary: mutatedBytes(bases.map(b => utf8.encode(b))).map(b => decoder.decode(b)), weight: 6 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 },
    { arbitrary: fc.json({ maxDepth: 4 }), weight: 1 }
  )
}

function apply (bytes: Uint8Array, op: Mutation, bases: readonly Uint8Array[]): Uint8Array {
  const n = bytes.length
  const at = (i: number): number => n === 0 ? 0 : i % n
  switch (op.kind) {
    case 'flip': {
      if (n === 0) return bytes
      const out = bytes.slice()
      out[at(op.at)] = (out[at(op.at)] as number) ^ (1 << op.bit)
      return out
    }
    case 'set': {
      if (n === 0) return bytes
      const out = bytes.slice()
      out[at(op.at)] = op.value
      return out
    }
    case 'truncate': return bytes.slice(0, at(op.at))
    case 'extend': return concat(bytes, op.bytes)
    case 'insert': return concat(bytes.subarray(0, at(op.at)), op.bytes, bytes.subarray(at(op.at)))
    case 'cut': return concat(bytes.subarray(0, at(op.at)), bytes.subarray(at(op.at) + op.length))
    case 'splice': {
      const other = bases[op.other % bases.length] as Uint8Array
      const from = other.length === 0 ? 0 : op.from % other.length
      return concat(bytes.subarray(0, at(op.at)), other.subarray(from, from + op.length), bytes.subarray(at(op.at)))
    }
    case 'major': {
      const heads = cborHeads(bytes)
      if (heads.length === 0) return bytes
      const out = bytes.slice()
      const h = heads[op.head % heads.length] as number
      out[h] = (op.major << 5) | ((out[h] as number) & 0x1f)
      return out
    }
  }
}

function concat (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/**
 * Offsets of the item heads of definite-length CBOR (what the codec writes), so a mutation can
 * change an item's major type rather than a byte inside a string. Stops where the bytes stop
 * being CBOR it can walk.
 */
export function cborHeads (bytes: Uint8Array): number[] {
  const heads: number[] = []
  let pos = 0
  let pending = 1
  while (pending > 0 && pos < bytes.length && heads.length < 10_000) {
    pending--
    heads.push(pos)
    const initial = bytes[pos] as number
    const major = initial >> 5
    const info = initial & 0x1f
    pos++
    let arg = info
    if (info >= 24 && info <= 27) {
      const size = 1 << (info - 24)
      if (pos + size > bytes.length) break
      arg = 0
      for (let i = 0; i < size; i++) arg = arg * 256 + (bytes[pos + i] as number)
      pos += size
    } else if (info > 27) {
      break
    }
    if (major === 2 || major === 3) pos += arg
    else if (major === 4) pending += arg
    else if (major === 5) pending += 2 * arg
    else if (major === 6) pending += 1
  }
  return heads
}
