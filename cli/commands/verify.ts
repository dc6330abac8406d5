/**
 * `trustnet verify FILE [CERT]`: ask the service to re-read its stored copy of the file's item
 * (the certificate's entry is the item's id), and check the validators' signed attestations it
 * relays against the genesis, so the answer does not rest on the service's word: intact only
 * when a quorum of validators attest that the entry rebuilt from the stored bytes is the one
 * anchored at the certificate's place, and the local file is the one the certificate certifies.
 * Exit 0 intact, 1 tampered (or an invalid certificate), 2 when it cannot tell (no service, no such item).
 */
import type { Command } from 'commander'
import { verifyCertificate } from '../../consensus/certificate.js'
import { toHex } from '../../consensus/ids.js'
import type { Certificate, Genesis } from '../../consensus/types.js'
import { TrustnetClient, type VerifyResult } from '../../client/client.js'
import { requireGenesis, requireService, resolveSettings, settingsOptions, type ConnectionFlags } from '../client-config.js'
import { certificatePathFor, hashFile, readCertificate } from '../client-files.js'
import { printHuman, printJson } from '../client-output.js'
import { refusalOf, type ClientReason } from '../client-verdicts.js'

export function registerVerify (program: Command): void {
  settingsOptions(program.command('verify'), { service: true, genesis: true })
    .description('ask the service whether its stored copy of a file is intact, checking the validators\' signed attestations against the genesis')
    .argument('<file>', 'the data file')
    .argument('[certificate]', 'its certificate (default: FILE.trustnet.json)')
    .action(async (file: string, certFile: string | undefined, o: ConnectionFlags) => {
      const settings = await resolveSettings(o)
      const genesis = await requireGenesis(settings)
      const client = new TrustnetClient(requireService(settings))
      const certificate = certFile ?? certificatePathFor(file)
      const { hash: fileHash } = await hashFile(file)
      const read = await readCertificate(certificate)
      const result = 'refusal' in read
        ? { intact: false, ...withoutValid(refusalOf(read.refusal)) }
        : await verifyStored(client, genesis, read.certificate, fileHash)
      if (o.json === true) printJson({ file, certificate, ...result })
      else printVerify(file, result)
      process.exitCode = result.intact ? 0 : 1
    })
}

export interface VerifyOutcome {
  intact: boolean
  reason?: string
  message?: string
  /** The service's item id: the certificate's entry. */
  id?: string
  /** What the certificate certifies; the local file's hash; the stored copy's hash now (null when gone). */
  dataHash?: string
  fileHash?: string
  storedHash?: string | null
  /** Validators whose valid signed attestations confirm the stored copy, and how many it takes. */
  attestedBy?: string[]
  quorum?: number
}

async function verifyStored (client: TrustnetClient, genesis: Genesis, certificate: Certificate, fileHash: string): Promise<VerifyOutcome> {
  const verdict = verifyCertificate(genesis, certificate)
  if (!verdict.valid) return { intact: false, reason: verdict.reason, message: verdict.message }
  const dataHash = toHex(certificate.record.dataHash)
  // Only the validators' signed answers about the certificate's own place count.
  const answer: VerifyResult = await client.verifyData(verdict.entry, { genesis, place: { height: certificate.header.height, index: certificate.proof.index } })
  const names = (validators: number[]): string[] => validators.map(i => genesis.validators[i]?.name ?? `#${i}`)
  const tally = { matches: names(answer.tally.matchedBy), mismatches: names(answer.tally.mismatchedBy), quorum: answer.tally.quorum }
  const seen = { id: verdict.entry, dataHash, fileHash, storedHash: answer.currentHash, quorum: tally.quorum }
  const tampered = (reason: ClientReason, message: string, attestedBy: string[]): VerifyOutcome =>
    ({ intact: false, reason, message, ...seen, attestedBy })
  if (answer.currentHash === null) return tampered('STORED_DATA_MISSING', 'the service no longer holds the data', [])
  if (!answer.intact) {
    return tampered('STORED_DATA_CHANGED', `the service's copy hashes to ${answer.currentHash}, not the certified ${dataHash}` +
      (tally.mismatches.length > 0 ? `; signed by ${tally.mismatches.join(', ')}` : ''), tally.mismatches)
  }
  if (tally.matches.length < tally.quorum) {
    return tampered('UNCONFIRMED', `the service says intact, but only ${tally.matches.length} of the ${tally.quorum} validators it takes attest it`, tally.matches)
  }
  if (fileHash !== dataHash) {
    return tampered('DATA_MISMATCH', `the service's copy is intact, but this file's SHA-256 is ${fileHash}, not the certified ${dataHash}`, tally.matches)
  }
  return { intact: true, ...seen, attestedBy: tally.matches }
}

function withoutValid<T extends { valid: boolean }> ({ valid: _, ...rest }: T): Omit<T, 'valid'> {
  return rest
}

function printVerify (file: string, r: VerifyOutcome): void {
  const fields: Array<[string, string | number | undefined]> = [
    ['id', r.id],
    ['data hash', r.dataHash],
    ['attested by', r.attestedBy !== undefined && r.attestedBy.length > 0 ? `${r.attestedBy.join(', ')} (quorum ${r.quorum})` : undefined]
  ]
  if (r.intact) printHuman(`${file}: intact`, fields)
  else printHuman(`${file}: ${headline(r.reason)} [${r.reason}] ${r.message}`, fields)
}

/** The client's own reasons speak of the data; any other is the certificate's refusal. */
function headline (reason: string | undefined): string {
  if (reason === 'UNCONFIRMED') return 'NOT CONFIRMED'
  return reason === 'STORED_DATA_CHANGED' || reason === 'STORED_DATA_MISSING' || reason === 'DATA_MISMATCH' ? 'TAMPERED' : 'INVALID CERTIFICATE'
}
