/** `trustnet keygen`: a validator or service generates its own key; only its public half leaves the machine. */
import type { Command } from 'commander'

export function registerKeygen (program: Command): void {
  program.command('keygen')
    .description('generate an ed25519 key into DIR/key.json (readable by its owner only, sealed when a passphrase is given) and print its public key and peer id, for the genesis')
    .requiredOption('--out <dir>', 'directory to write key.json into (never overwritten)')
    .option('--passphrase-file <file>', 'seal the key with the passphrase in this file (scrypt, AES-256-GCM); without it, TRUSTNET_KEY_PASSPHRASE if set, else the key is written in clear')
    .option('--json', 'print { publicKey, peerId, keyFile, sealed } as one JSON line')
    .action(async (o: { out: string, passphraseFile?: string, json?: boolean }) => {
      const { keygen } = await import('../operator-keys.js')
      const { readPassphrase } = await import('../../lib/sealed-key.js')
      const passphrase = readPassphrase(o.passphraseFile !== undefined ? { file: o.passphraseFile } : {})
      const made = await keygen(o.out, passphrase !== undefined ? { passphrase } : {})
      process.stdout.write(o.json === true
        ? JSON.stringify(made) + '\n'
        : `key:        ${made.keyFile} (${made.sealed ? 'sealed with the passphrase; keep both' : 'in clear; keep it secret'})\npublic key: ${made.publicKey}\npeer id:    ${made.peerId}\n`)
    })
}
