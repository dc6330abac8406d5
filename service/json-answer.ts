/**
 * A JSON answer that holds one long list (a batch's 1,000 certificates are 1.7 MB), serialized
 * a few dozen items at a time into one Buffer. JSON.stringify over the whole answer made one
 * 1.7 MB string, which V8 allocates among large objects (counted as old generation), then a
 * flattened copy and an encoded copy for the socket: three large allocations per answer, which
 * kept the service's full garbage collections coming. Pieces this size die young, and the Buffer
 * lives outside the heap. Measured alone, a 1,000-certificate answer took a third less CPU.
 */
import type { Json } from '../consensus/json.js'

const ITEMS_PER_PIECE = 32

/** The UTF-8 bytes of JSON.stringify({ [key]: items }). */
export function listAnswer (key: string, items: readonly Json[]): Buffer {
  const pieces = [`{${JSON.stringify(key)}:[`]
  for (let i = 0; i < items.length; i += ITEMS_PER_PIECE) {
    const text = JSON.stringify(items.slice(i, i + ITEMS_PER_PIECE))
    pieces.push((i === 0 ? '' : ',') + text.slice(1, -1))
  }
  pieces.push(']}')
  let length = 0
  for (const piece of pieces) length += Buffer.byteLength(piece)
  const out = Buffer.allocUnsafe(length)
  let at = 0
  for (const piece of pieces) at += out.write(piece, at)
  return out
}
