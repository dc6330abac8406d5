/**
 * "Check a file" in the browser with nothing but the genesis: the file's SHA-256 (WebCrypto;
 * the client library's own where the page is not a secure context and WebCrypto is absent), the
 * certificate checked against the genesis by the client library's verifyCertificate, and the
 * certified data hash compared with the file's. No server is asked anything.
 */
import { checkFileCertificate, hashData, readGenesis, type CertifiedFile, type FileRefusal } from '../client/verify.js'
import { toHex } from '../consensus/ids.js'
import type { Genesis } from '../consensus/types.js'

/** The file is the one the certificate certifies (what it says, with the file's hash), or why not. */
export type FileVerdict = (CertifiedFile | FileRefusal) & { fileHash: string }

/** SHA-256 of `data`, lowercase hex. */
export async function sha256Hex (data: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle
  if (subtle === undefined) return hashData(data)
  return toHex(new Uint8Array(await subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>)))
}

/**
 * Checks `certificateText` (a certificate in its JSON form, as `trustnet stamp` saves it)
 * against `genesis` and against the file's bytes. Throws GenesisError only when the genesis
 * itself is unreadable; anything wrong with the certificate or the file is a verdict.
 */
export async function checkFile (genesis: Genesis, data: Uint8Array, certificateText: string): Promise<FileVerdict> {
  const fileHash = await sha256Hex(data)
  return { ...checkFileCertificate(genesis, certificateText, fileHash), fileHash }
}

export { readGenesis }
