/**
 * The answer to a batch request, written as UTF-8 bytes straight into one Buffer: the same text
 * as JSON.stringify({ items }) over the items' JSON forms, without building those forms. A
 * 1,000-certificate answer is 1.8 MB of JSON; as objects and strings it allocated several times
 * that (hex strings, per-certificate objects, the serializer's own pieces), a large part of
 * everything the service allocated under batch load. Each block's header and commit are
 * serialized once and copied into every certificate of the block; the hex of hashes is written
 * byte by byte.
 */
import { toJson } from '../consensus/json.js'
import type { Certificate, LedgerRecord } from '../consensus/types.js'
import { BoundedMap } from '../lib/bounded-map.js'

export interface BatchAnswerItem {
  id: Uint8Array
  /** Absent or null: the item is still pending. */
  certificate?: Certificate | null
}

const HEX_DIGITS = Array.from('0123456789abcdef', c => c.charCodeAt(0))

/** JSON text as bytes, once per object: a block's certificates share its header and commit. */
const sharedJson = new WeakMap<object, Buffer>()

function jsonBytes (value: object): Buffer {
  let bytes = sharedJson.get(value)
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(toJson(value)))
    sharedJson.set(value, bytes)
  }
  return bytes
}

/** JSON strings of the few texts every certificate repeats (chain id, service id). */
const STRINGS_KEPT = 64
const stringJson = new BoundedMap<string, Buffer>(STRINGS_KEPT)

function stringBytes (s: string): Buffer {
  let bytes = stringJson.get(s)
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(s))
    stringJson.set(s, bytes)
  }
  return bytes
}

/** The bytes of JSON.stringify({ items: items.map(JSON form) }). */
export function batchAnswer (items: readonly BatchAnswerItem[]): Buffer {
  const out = new JsonBytes(8 * 1024)
  out.ascii('{"items":[')
  let firstItemBytes = 0
  items.forEach((item, i) => {
    // Items of one answer are about the same size: room for all of them at once, instead of
    // growing (a copy of megabytes) near the end.
    if (i === 1) out.reserve((items.length - 1) * (firstItemBytes + 64) + 64)
    if (i > 0) out.ascii(',')
    out.ascii('{"id":"')
    out.hex(item.id)
    if (item.certificate == null) {
      out.ascii('","status":"pending"}')
    } else {
      out.ascii('","certificate":')
      writeCertificate(out, item.certificate)
      out.ascii('}')
    }
    if (i === 0) firstItemBytes = out.length
  })
  out.ascii(']}')
  return out.done()
}

/** The certificate's JSON form (toJson), field by field in its order. */
function writeCertificate (out: JsonBytes, cert: Certificate): void {
  out.ascii(`{"v":${cert.v},"chainId":`)
  out.bytes(stringBytes(cert.chainId))
  out.ascii(',"record":')
  writeRecord(out, cert.record)
  out.ascii(',"header":')
  out.bytes(jsonBytes(cert.header))
  out.ascii(`,"proof":{"index":${cert.proof.index},"siblings":[`)
  cert.proof.siblings.forEach((sibling, i) => {
    out.ascii(i === 0 ? '"' : ',"')
    out.hex(sibling)
    out.ascii('"')
  })
  out.ascii(']},"commit":')
  out.bytes(jsonBytes(cert.commit))
  out.ascii('}')
}

/** A record's JSON form: its metadata (text and numbers) is its own JSON, its one byte field hex. */
function writeRecord (out: JsonBytes, record: LedgerRecord): void {
  out.ascii(`{"v":${record.v},"dataHash":"`)
  out.hex(record.dataHash)
  out.ascii('","meta":')
  out.metaJson(record.meta)
  out.ascii(',"service":')
  out.bytes(stringBytes(record.service))
  out.ascii('}')
}

/** A growing Buffer of UTF-8 JSON text. */
class JsonBytes {
  private buf: Buffer
  private at = 0
  private lastMeta: object | undefined
  private lastMetaJson = ''

  constructor (sizeHint: number) {
    this.buf = Buffer.allocUnsafe(sizeHint)
  }

  /** Text known to be ASCII (punctuation, field names, numbers). */
  ascii (s: string): void {
    this.reserve(s.length)
    // Short strings by hand: a call into Buffer's native writer costs more than the copy.
    const buf = this.buf
    for (let i = 0; i < s.length; i++) buf[this.at + i] = s.charCodeAt(i)
    this.at += s.length
  }

  /** Any text: ASCII by hand, anything else through the UTF-8 encoder (at most 3 bytes per UTF-16 unit). */
  text (s: string): void {
    this.reserve(3 * s.length)
    const buf = this.buf
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) {
        this.at += buf.write(s, this.at, 'utf8')
        return
      }
      buf[this.at + i] = c
    }
    this.at += s.length
  }

  /** Metadata as JSON; the records of one batch request share one metadata object, serialized once. */
  metaJson (meta: object): void {
    if (meta !== this.lastMeta) {
      this.lastMeta = meta
      this.lastMetaJson = JSON.stringify(meta)
    }
    this.text(this.lastMetaJson)
  }

  bytes (b: Uint8Array): void {
    this.reserve(b.length)
    this.buf.set(b, this.at)
    this.at += b.length
  }

  hex (b: Uint8Array): void {
    this.reserve(2 * b.length)
    const buf = this.buf
    let at = this.at
    for (let i = 0; i < b.length; i++) {
      const byte = b[i] as number
      buf[at++] = HEX_DIGITS[byte >> 4] as number
      buf[at++] = HEX_DIGITS[byte & 15] as number
    }
    this.at = at
  }

  get length (): number {
    return this.at
  }

  done (): Buffer {
    return this.buf.subarray(0, this.at)
  }

  /** Room for `n` more bytes. */
  reserve (n: number): void {
    if (this.at + n <= this.buf.length) return
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.at + n))
    this.buf.copy(grown, 0, 0, this.at)
    this.buf = grown
  }
}
