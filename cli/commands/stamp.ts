/**
 * `trustnet stamp FILE...`: store each file through the service (or, with --hash-only, anchor
 * only its SHA-256 and name) and save its certificate beside it as FILE.trustnet.json. An
 * existing certificate is never overwritten without --force, and that is checked for every file
 * before the first is sent. Each certificate is checked before it is saved, against the genesis
 * given (--genesis) or else the service's (GET /v1/genesis), either one pinned when a pin is set
 * (--pin, TRUSTNET_GENESIS_PIN), and must certify the file's own SHA-256: an invalid one is never
 * saved. A progress bar shows on a terminal when there are several files. Exit 0 when every file
 * got its certificate, 1 when a certificate was invalid or the genesis is not the pinned one
 * (nothing is sent then), 2 when a file failed otherwise (each failure is named).
 */
import { writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { basename } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Presets, SingleBar } from 'cli-progress'
import type { Command } from 'commander'
import { ApiError, TrustnetClient, type CertificateJson } from '../../client/client.js'
import { GenesisError } from '../../client/errors.js'
import { hashData, verifyCertificate } from '../../client/verify.js'
import type { Genesis } from '../../consensus/types.js'
import { CodedError } from '../../lib/errors.js'
import { integer } from '../args.js'
import { ClientUsageError, isPinMismatch, requireGenesis, requireService, resolveSettings, settingsOptions, type ClientSettings, type ConnectionFlags } from '../client-config.js'
import { certificatePathFor, contentTypeOf, hashFile, readBytes } from '../client-files.js'
import { printJson } from '../client-output.js'

interface StampFlags extends ConnectionFlags {
  contentType?: string
  hashOnly?: boolean
  force?: boolean
  timeout: number
}

/** Files sent at once: enough to fill a block while others wait for theirs. */
const CONCURRENCY = 4
const POLL_MS = 1000

export function registerStamp (program: Command): void {
  settingsOptions(program.command('stamp'), { service: true, genesis: true })
    .description('store (or with --hash-only anchor the hash of) each file through the service and save its certificate as FILE.trustnet.json')
    .argument('<files...>', 'the files to stamp')
    .option('--content-type <type>', 'content type to record (default: guessed from each file\'s extension)')
    .option('--hash-only', 'send only the SHA-256, name, size and content type; the service keeps no copy')
    .option('--force', 'overwrite existing certificates')
    .option('--timeout <seconds>', 'how long to wait for each certificate', integer(1, 3600), 120)
    .action(async (files: string[], o: StampFlags) => {
      const settings = await resolveSettings(o)
      const client = new TrustnetClient(requireService(settings))
      if (o.force !== true) {
        const existing = files.map(certificatePathFor).filter(p => existsSync(p))
        if (existing.length > 0) throw new ClientUsageError('CERTIFICATE_EXISTS', `${existing.join(', ')} exist${existing.length === 1 ? 's' : ''}: give --force to overwrite`)
      }
      let genesis: Genesis
      try {
        genesis = await genesisFor(client, settings)
      } catch (err) {
        if (!isPinMismatch(err) && !(err instanceof GenesisError && err.code === 'GENESIS_PIN_MISMATCH')) throw err
        if (o.json === true) printJson({ ok: false, error: { code: err.code, message: err.message } })
        else process.stderr.write(`trustnet: [${err.code}] ${err.message}; nothing was sent\n`)
        process.exitCode = 1
        return
      }
      const bar = files.length > 1 && o.json !== true && process.stderr.isTTY
        ? new SingleBar({ stream: process.stderr, format: 'stamping [{bar}] {value}/{total} files', hideCursor: true, clearOnComplete: true }, Presets.shades_classic)
        : undefined
      bar?.start(files.length, 0)
      // While the bar draws on the terminal, lines for people wait until it is gone.
      const held: string[] = []
      const say = (text: string): void => { if (bar !== undefined) held.push(text); else process.stdout.write(text) }
      let failed = 0
      let invalid = 0
      let next = 0
      const worker = async (): Promise<void> => {
        for (let i = next++; i < files.length; i = next++) {
          const file = files[i] as string
          try {
            const r = await stampOne(client, genesis, file, o)
            if (o.json === true) printJson({ file, ok: true, ...r })
            else say(`${file}: stamped in block ${r.height}, certificate ${r.certificate}\n`)
          } catch (err) {
            // No service at all: every file would fail the same way; stop and say it once.
            if (err instanceof ApiError && err.code === 'NETWORK_ERROR') throw err
            if (!(err instanceof ApiError || err instanceof CodedError)) throw err
            if (err instanceof CertificateRefusedError) invalid++
            else failed++
            if (o.json === true) printJson({ file, ok: false, error: { code: err.code, message: err.message } })
            else process.stderr.write(`trustnet: ${file}: [${err.code}] ${err.message}\n`)
          }
          bar?.increment()
        }
      }
      try {
        await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker))
      } finally {
        bar?.stop()
        for (const text of held) process.stdout.write(text)
      }
      process.exitCode = invalid > 0 ? 1 : failed > 0 ? 2 : 0
    })
}

/** The genesis to check certificates against: the one given, else the service's; pinned when a pin is set. */
async function genesisFor (client: TrustnetClient, settings: ClientSettings): Promise<Genesis> {
  if (settings.genesis !== undefined) return await requireGenesis(settings)
  return (await client.fetchGenesis(settings.pin !== undefined ? { pin: settings.pin } : {})).genesis
}

interface Stamped { certificate: string, id: string, dataHash: string, height: number }

async function stampOne (client: TrustnetClient, genesis: Genesis, file: string, o: StampFlags): Promise<Stamped> {
  const name = basename(file)
  const contentType = o.contentType ?? contentTypeOf(file)
  let id: string
  let dataHash: string
  let cert: CertificateJson | undefined
  if (o.hashOnly === true) {
    const { hash, size } = await hashFile(file)
    dataHash = hash
    const r = await client.anchorHash(hash, { name, size, contentType })
    id = r.id
    cert = r.status === 'certified' ? r.certificate : undefined
  } else {
    const bytes = await readBytes(file)
    dataHash = hashData(bytes)
    const r = await client.storeData(bytes, { name, contentType })
    id = r.id
    cert = r.status === 'certified' ? r.certificate : undefined
  }
  cert ??= await waitForCertificate(client, id, o.timeout * 1000)
  const verdict = verifyCertificate(genesis, cert)
  if (!verdict.valid) throw new CertificateRefusedError(verdict.reason, `the service's certificate for item ${id} is invalid, not saved: ${verdict.message}`)
  if (verdict.dataHash !== dataHash) throw new CertificateRefusedError('DATA_MISMATCH', `the service's certificate for item ${id} certifies ${verdict.dataHash}, not this file's ${dataHash}: not saved`)
  const certificate = certificatePathFor(file)
  await writeFile(certificate, JSON.stringify(cert, null, 2) + '\n', { flag: o.force === true ? 'w' : 'wx' })
  return { certificate, id, dataHash: cert.record.dataHash, height: cert.header.height }
}

/** The service answered before the block was committed: ask again until it is, or time is up. */
async function waitForCertificate (client: TrustnetClient, id: string, timeoutMs: number): Promise<CertificateJson> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = await client.getCertificate(id)
    if (r.status === 'certified') return r.certificate
    if (Date.now() + POLL_MS > deadline) throw new StampError('CERTIFICATE_PENDING', `no certificate for item ${id} after ${timeoutMs / 1000} s; fetch it later from /v1/data/${id}/certificate`)
    await sleep(POLL_MS)
  }
}

export class StampError extends CodedError<'CERTIFICATE_PENDING'> {
  override readonly name = 'StampError'
}

/** The service's certificate does not hold against the genesis, or certifies other data; `code` is the verdict's reason. */
export class CertificateRefusedError extends CodedError {
  override readonly name = 'CertificateRefusedError'
}
