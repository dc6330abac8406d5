/**
 * This machine's raw rates, measured in the same run as the cluster figures, so those figures can
 * be read as fractions of what the hardware does at all: SHA-256 of 150-byte inputs (about one
 * ledger record) with node:crypto, LevelDB writes in batches of 1000 puts of 150-byte values
 * (about how a committed block is stored), and ed25519 verifications of vote-sized messages (a
 * certificate's check is a quorum of them). Run them while no cluster is running.
 */
import { hash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { defaultEd25519 } from '../consensus/ed25519.js'

const RECORD_BYTES = 150
const PUTS_PER_BATCH = 1000

/** SHA-256 hashes per second of distinct 150-byte inputs on this thread. */
export function sha256Rate (durationMs: number): number {
  const inputs = Array.from({ length: 1024 }, () => randomBytes(RECORD_BYTES))
  let count = 0
  const start = performance.now()
  let elapsed = 0
  // Check the clock every 10k hashes so reading it costs nothing measurable.
  while (elapsed < durationMs) {
    for (let i = 0; i < 10_000; i++) hash('sha256', inputs[i & 1023] as Buffer, 'buffer')
    count += 10_000
    elapsed = performance.now() - start
  }
  return count / (elapsed / 1000)
}

/** Puts per second into a fresh LevelDB, 1000 per awaited batch (not synced), random 32-byte keys. */
export async function levelBatchPutRate (durationMs: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'trustnet-bench-level-'))
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
  try {
    await db.open()
    const value = randomBytes(RECORD_BYTES)
    let puts = 0
    let busyMs = 0
    while (busyMs < durationMs) {
      // Keys are made outside the timed part: only the database's work is measured.
      const keys = randomBytes(32 * PUTS_PER_BATCH)
      const ops = Array.from({ length: PUTS_PER_BATCH }, (_, i) => ({ type: 'put' as const, key: keys.subarray(i * 32, i * 32 + 32), value }))
      const start = performance.now()
      await db.batch(ops)
      busyMs += performance.now() - start
      puts += PUTS_PER_BATCH
    }
    return puts / (busyMs / 1000)
  } finally {
    await db.close().catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  }
}

/** ed25519 verifications per second on this thread, of distinct 100-byte messages, with the backend certificates are checked with. */
export function ed25519VerifyRate (durationMs: number): number {
  const seed = randomBytes(32)
  const publicKey = defaultEd25519.publicKey(seed)
  const signed = Array.from({ length: 64 }, () => {
    const message = randomBytes(100)
    return { message, signature: defaultEd25519.sign(seed, message) }
  })
  let count = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < durationMs) {
    for (const { message, signature } of signed) {
      if (!defaultEd25519.verify(publicKey, message, signature)) throw new Error('a valid signature did not verify')
    }
    count += signed.length
    elapsed = performance.now() - start
  }
  return count / (elapsed / 1000)
}
