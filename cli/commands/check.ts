/**
 * `trustnet check FILE [CERT]`: hash the file and check its certificate offline against the
 * genesis, then print what it certifies (data hash, name, service, block height and time, the
 * signing validators by name). Exit 0 when the certificate is valid and certifies this file's
 * SHA-256, 1 when not (a genesis that is not the pinned one included: GENESIS_PIN_MISMATCH); a
 * file or certificate that cannot be read, or no genesis, exits 2.
 */
import type { Command } from 'commander'
import { isPinMismatch, requireGenesis, resolveSettings, settingsOptions, type ConnectionFlags } from '../client-config.js'
import { certificatePathFor, hashFile, readCertificate } from '../client-files.js'
import { printHuman, printJson } from '../client-output.js'
import { certify, refusalOf, type Certified, type Refused } from '../client-verdicts.js'

export function registerCheck (program: Command): void {
  settingsOptions(program.command('check'), { service: false, genesis: true })
    .description('check a file against its certificate offline, with the genesis alone, and print what it certifies')
    .argument('<file>', 'the data file')
    .argument('[certificate]', 'its certificate (default: FILE.trustnet.json)')
    .action(async (file: string, certFile: string | undefined, o: ConnectionFlags) => {
      const genesis = await requireGenesis(await resolveSettings(o)).catch((err: unknown) => {
        if (isPinMismatch(err)) return refusalOf(err)
        throw err
      })
      const certificate = certFile ?? certificatePathFor(file)
      const { hash } = await hashFile(file)
      const read = await readCertificate(certificate)
      const result = 'valid' in genesis ? genesis : 'refusal' in read ? refusalOf(read.refusal) : certify(genesis, read.certificate, hash)
      if (o.json === true) printJson({ file, certificate, ...result })
      else printCheck(file, result)
      process.exitCode = result.valid ? 0 : 1
    })
}

function printCheck (file: string, r: Certified | Refused): void {
  if (!r.valid) {
    printHuman(`${file}: INVALID [${r.reason}] ${r.message}`)
    return
  }
  printHuman(`${file}: valid`, [
    ['data hash', r.dataHash],
    ['name', r.name],
    ['type', r.contentType],
    ['size', r.size],
    ['service', r.service],
    ['entry', r.entry],
    ['block', `${r.height} at ${r.time}`],
    ['signed by', r.signers.join(', ')]
  ])
}
