/** `trustnet verify-certificate`: check a certificate offline against a genesis; exit 0 when valid, 1 when not. */
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { verifyCertificate } from '../../consensus/certificate.js'
import { TrustnetError } from '../../consensus/errors.js'
import { fromJsonText } from '../../consensus/json.js'
import { CertificateSchema } from '../../consensus/types.js'
import { readGenesis } from '../../node/config.js'

export function registerVerifyCertificate (program: Command): void {
  program.command('verify-certificate')
    .description('check a certificate offline against a genesis: Merkle inclusion and a quorum of validator signatures')
    .argument('<certificate>', 'certificate JSON file')
    .requiredOption('--genesis <file>', 'the network genesis JSON')
    .action(async (file: string, o: { genesis: string }) => {
      const genesis = await readGenesis(o.genesis)
      let verdict
      try {
        verdict = verifyCertificate(genesis, fromJsonText(CertificateSchema, await readFile(file, 'utf8')))
      } catch (err) {
        if (!(err instanceof TrustnetError)) throw err
        verdict = { valid: false as const, reason: err.code, message: err.message }
      }
      process.stdout.write(JSON.stringify(verdict) + '\n')
      process.exitCode = verdict.valid ? 0 : 1
    })
}
