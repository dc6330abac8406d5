/**
 * "Check a file" in the browser with nothing but the genesis: the file's SHA-256 (WebCrypto;
 * the client library's own where the page is not a secure context and WebCrypto is absent), the
 * certificate checked against the genesis by the client library's verifyCertificate, and the
 * certified data hash compared with the file's. No server is asked anything.
 */
import { hashData, readGenesis, verifyCertificate } from '../client/verify.js'
import { toHex } from '../consensus/ids.js'
import type { Genesis } from '../consensus/types.js'

/** The file is the one the certificate certifies, and this is what it says. */
export interface FileValid {
  valid: true
  fileHash: string
  name?: string
  size?: number
  contentType?: string
  service: string
  /** The record's entry (the service's id for the item), lowercase hex. */
  entry: string
  height: number
  /** The block's time, ms since the epoch (its proposer's clock). */
  time: number
  /** Names (from the genesis) of the validators whose precommits seal the block. */
  signers: string[]
}

/** Not valid: the certificate's own refusal code (consensus/errors.ts), or DATA_MISMATCH. */
export interface FileInvalid { valid: false, fileHash: string, reason: string, message: string }

export type FileVerdict = FileValid | FileInvalid

/** SHA-256 of `data`, lowercase hex. */
export async function sha256Hex (data: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle
  if (subtle === undefined) return hashData(data)
  return toHex(new Uint8Array(await subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>)))
}

/**
 * Checks `certificateText` (a certificate v2 in its JSON form, as `trustnet stamp` saves it)
 * against `genesis` and against the file's bytes. Throws GenesisError only when the genesis
 * itself is unreadable; anything wrong with the certificate or the file is a verdict.
 */
export async function checkFile (genesis: Genesis, data: Uint8Array, certificateText: string): Promise<FileVerdict> {
  const fileHash = await sha256Hex(data)
  const verdict = verifyCertificate(genesis, certificateText)
  if (!verdict.valid) return { valid: false, fileHash, reason: verdict.reason, message: verdict.message }
  if (verdict.dataHash !== fileHash) {
    return { valid: false, fileHash, reason: 'DATA_MISMATCH', message: `the file's SHA-256 is ${fileHash}; the certificate certifies ${verdict.dataHash}` }
  }
  const { name, size, contentType } = verdict.meta
  return {
    valid: true,
    fileHash,
    ...(name !== undefined ? { name } : {}),
    ...(size !== undefined ? { size } : {}),
    ...(contentType !== undefined ? { contentType } : {}),
    service: verdict.service,
    entry: verdict.entry,
    height: verdict.height,
    time: verdict.time,
    signers: verdict.signers.map(i => genesis.validators[i]?.name ?? `#${i}`)
  }
}

export { readGenesis }
