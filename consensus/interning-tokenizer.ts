/**
 * cborg's tokenizer, with short ASCII text strings taken from a small cache instead of built anew.
 * Every record repeats the same map keys ("dataHash", "meta", "clientTime", ...) and usually
 * the same owner and service names; cborg builds each one a character at a time, which made
 * string building the largest single source of garbage on a validator (15% of what it
 * allocated under batch load). A cached string is only used when its characters equal the bytes
 * at hand, so the decoded value is exactly cborg's; anything else goes to cborg's own code.
 */
import { Token, Tokenizer, Type, type DecodeOptions } from 'cborg'

/** Text strings whose length fits in the initial byte (major type 3, 0 to 23 bytes). */
const SHORT_TEXT_FIRST = 0x60
const SHORT_TEXT_END = 0x78
const CACHE_SLOTS = 1024

/** Slot -> string last decoded there (one string per slot: a miss simply replaces it). */
const cache: Array<string | undefined> = new Array(CACHE_SLOTS)

export class InterningTokenizer extends Tokenizer {
  constructor (data: Uint8Array, options: DecodeOptions) {
    // A Buffer's slices are views into it: like cborg, decode from a plain view, so byte
    // strings come out as copies (plain Uint8Arrays) and never pin or alias the input.
    super(Object.getPrototypeOf(data) === Uint8Array.prototype ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength), options)
  }

  override next (): Token {
    const head = this.data[this._pos] as number
    if (head >= SHORT_TEXT_FIRST && head < SHORT_TEXT_END) {
      const start = this._pos + 1
      const end = start + head - SHORT_TEXT_FIRST
      // Truncated input: cborg reports it.
      if (end <= this.data.length) {
        const text = shortAscii(this.data, start, end)
        if (text !== undefined) {
          this._pos = end
          return new Token(Type.string, text, end - start + 1)
        }
      }
    }
    return super.next()
  }
}

/** The bytes as a string if all are ASCII (undefined otherwise), from the cache when it holds them. */
function shortAscii (bytes: Uint8Array, start: number, end: number): string | undefined {
  // FNV-1a over the bytes picks the slot.
  let hash = 0x811c9dc5
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number
    if (b >= 0x80) return undefined
    hash = Math.imul(hash ^ b, 0x01000193)
  }
  const slot = (hash >>> 0) % CACHE_SLOTS
  const cached = cache[slot]
  if (cached !== undefined && cached.length === end - start && sameChars(cached, bytes, start)) return cached
  const text = String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[])
  cache[slot] = text
  return text
}

function sameChars (text: string, bytes: Uint8Array, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false
  return true
}
