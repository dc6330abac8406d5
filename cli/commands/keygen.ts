/** `trustnet keygen`: a validator or service generates its own key; only its public half leaves the machine. */
import type { Command } from 'commander'

export function registerKeygen (program: Command): void {
  program.command('keygen')
    .description('generate an ed25519 key into DIR/key.json (readable by its owner only) and print its public key and peer id, for the genesis')
    .requiredOption('--out <dir>', 'directory to write key.json into (never overwritten)')
    .option('--json', 'print { publicKey, peerId, keyFile } as one JSON line')
    .action(async (o: { out: string, json?: boolean }) => {
      const { keygen } = await import('../operator-keys.js')
      const made = await keygen(o.out)
      process.stdout.write(o.json === true
        ? JSON.stringify(made) + '\n'
        : `key:        ${made.keyFile} (keep it secret)\npublic key: ${made.publicKey}\npeer id:    ${made.peerId}\n`)
    })
}
