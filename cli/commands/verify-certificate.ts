/**
 * `trustnet verify-certificate`: check a certificate (v3) offline against a genesis, pinned by its
 * fingerprint when --pin (or TRUSTNET_GENESIS_PIN) gives one, and print one JSON line saying what
 * it certifies (the record, the service that anchored it, its entry, the block's height and time,
 * the signing validators) or why it is refused; exit 0 when valid, 1 when not (a genesis that is
 * not the pinned one included: GENESIS_PIN_MISMATCH).
 */
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { verifyCertificate, type CertificateVerdict } from '../../consensus/certificate.js'
import { TrustnetError } from '../../consensus/errors.js'
import { checkGenesisPin } from '../../consensus/genesis-fingerprint.js'
import { fromJsonText, toJson, type Json } from '../../consensus/json.js'
import { CertificateSchema, type Certificate } from '../../consensus/types.js'
import { readGenesis } from '../../node/config.js'
import { readPin } from '../client-config.js'

export function registerVerifyCertificate (program: Command): void {
  program.command('verify-certificate')
    .description('check a certificate offline against a genesis: the record\'s salted entry bound to its registered service, Merkle inclusion and a quorum of validator signatures')
    .argument('<certificate>', 'certificate JSON file')
    .requiredOption('--genesis <file>', 'the network genesis JSON')
    .option('--pin <fingerprint>', 'the genesis fingerprint to trust: any other genesis is refused (env TRUSTNET_GENESIS_PIN)')
    .action(async (file: string, o: { genesis: string, pin?: string }) => {
      const given = o.pin ?? process.env.TRUSTNET_GENESIS_PIN
      const pin = given !== undefined && given !== '' ? readPin(given) : undefined
      const genesis = await readGenesis(o.genesis)
      let verdict: CertificateVerdict
      let cert: Certificate | undefined
      try {
        // The trust root first: no certificate is worth reading under a genesis that is not the pinned one.
        if (pin !== undefined) checkGenesisPin(genesis, pin)
        cert = fromJsonText(CertificateSchema, await readFile(file, 'utf8'))
        verdict = verifyCertificate(genesis, cert)
      } catch (err) {
        if (!(err instanceof TrustnetError)) throw err
        verdict = { valid: false, reason: err.code, message: err.message }
      }
      process.stdout.write(JSON.stringify(describe(verdict, cert)) + '\n')
      process.exitCode = verdict.valid ? 0 : 1
    })
}

/** A valid verdict with the record it certifies (data hash in hex and metadata); a refusal as it is. */
function describe (verdict: CertificateVerdict, cert: Certificate | undefined): Json {
  if (!verdict.valid || cert === undefined) return toJson(verdict)
  return toJson({ ...verdict, record: { dataHash: cert.record.dataHash, meta: cert.record.meta } })
}
