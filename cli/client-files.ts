/**
 * Files as the client commands meet them: a file's SHA-256 (streamed, so a large file is never
 * held whole), the certificate saved beside it (`FILE.trustnet.json`), read back as a certificate
 * or as the reason it is not one, and the content type a file's extension suggests.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { TrustnetError } from '../consensus/errors.js'
import { fromJsonText } from '../consensus/json.js'
import { CertificateSchema, type Certificate } from '../consensus/types.js'
import { CodedError } from '../lib/errors.js'

/** A file the command was given cannot be read (missing, a directory, no permission). */
export class FileUnreadableError extends CodedError<'FILE_UNREADABLE' | 'CERTIFICATE_UNREADABLE'> {
  override readonly name = 'FileUnreadableError'
}

export const CERTIFICATE_SUFFIX = '.trustnet.json'

export function certificatePathFor (file: string): string {
  return file + CERTIFICATE_SUFFIX
}

/** SHA-256 of a file's bytes, lowercase hex, and its size. */
export async function hashFile (file: string): Promise<{ hash: string, size: number }> {
  const hash = createHash('sha256')
  let size = 0
  try {
    for await (const chunk of createReadStream(file)) {
      hash.update(chunk as Buffer)
      size += (chunk as Buffer).length
    }
  } catch (err) {
    throw unreadable('FILE_UNREADABLE', file, err)
  }
  return { hash: hash.digest('hex'), size }
}

export async function readBytes (file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file))
  } catch (err) {
    throw unreadable('FILE_UNREADABLE', file, err)
  }
}

/**
 * The certificate in `file`, or the typed reason its text is not a certificate (MALFORMED,
 * INVALID_FIELD...): that is a verdict on the certificate, not a failure of the command. A file
 * that cannot be read at all throws FileUnreadableError.
 */
export async function readCertificate (file: string): Promise<{ certificate: Certificate } | { refusal: TrustnetError }> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw unreadable('CERTIFICATE_UNREADABLE', file, err)
  }
  try {
    return { certificate: fromJsonText(CertificateSchema, text) }
  } catch (err) {
    if (err instanceof TrustnetError) return { refusal: err }
    throw err
  }
}

function unreadable (code: 'FILE_UNREADABLE' | 'CERTIFICATE_UNREADABLE', file: string, err: unknown): FileUnreadableError {
  const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message
  return new FileUnreadableError(code, `cannot read ${file}: ${reason}`, { file }, { cause: err })
}

/** Common types by extension; anything else is stored as plain bytes. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.txt': 'text/plain', '.md': 'text/markdown', '.csv': 'text/csv', '.html': 'text/html', '.htm': 'text/html',
  '.xml': 'application/xml', '.json': 'application/json', '.pdf': 'application/pdf', '.zip': 'application/zip',
  '.gz': 'application/gzip', '.tar': 'application/x-tar', '.png': 'image/png', '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.svg': 'image/svg+xml',
  '.mp3': 'audio/mpeg', '.wav': 'audio/wav', '.mp4': 'video/mp4', '.webm': 'video/webm',
  '.doc': 'application/msword', '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', '.odt': 'application/vnd.oasis.opendocument.text'
}

export function contentTypeOf (file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
}
