/**
 * A bound measured in the same run as the cluster: the CPU one validator spends per entry on the
 * work no design can spare it, in one process with nothing else running. A submit request of
 * 1000 entries is decoded, its service's signature checked, its entries looked up in the chain
 * store, the submission enters a mempool and leaves it in a block whose Merkle root is built, and
 * the block is committed to LevelDB (block, entry index, tip), all through the node's own
 * modules. No network, no votes, no certificates: every validator does at least this for every
 * entry, so n validators sharing c cores certify at most c / (n x this) entries per second,
 * however fast the rest gets. CPU is the process's (every thread: LevelDB's writers and the
 * garbage collector's helpers count), not the wall clock.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBlock, type ChainTip } from '../consensus/block.js'
import { decode, encode } from '../consensus/codec.js'
import { defaultEd25519 } from '../consensus/ed25519.js'
import { entriesOf, ServiceSet, signSubmission } from '../consensus/entries.js'
import { headerHash } from '../consensus/ids.js'
import { Mempool } from '../consensus/mempool.js'
import { SubmitRequestSchema } from '../protocol/node-api.js'
import type { Commit } from '../consensus/types.js'
import { ChainStore } from '../node/store/chain-store.js'

const ENTRIES_PER_BATCH = 1000
/** Batches run before measuring: the code is compiled and the store has its first files. */
const WARMUP_BATCHES = 5
const CHAIN_ID = 'bench'
/** No genesis is read here: blocks name a fixed genesis hash. */
const CHAIN = { chainId: CHAIN_ID, genesisHash: new Uint8Array(32) }

export interface RecordPathResult {
  /** CPU microseconds per entry, every thread of the process. */
  usPerRecord: number
  /** Entries committed while measuring. */
  records: number
}

function cpuMicros (): number {
  const { user, system } = process.cpuUsage()
  return user + system
}

/** Runs the entry path for at least `durationMs` of CPU after a warm-up and returns its CPU per entry. */
export async function recordPathCost (durationMs: number): Promise<RecordPathResult> {
  const dir = await mkdtemp(join(tmpdir(), 'trustnet-bench-path-'))
  const store = new ChainStore(dir)
  const seed = new Uint8Array(randomBytes(32))
  const services = new ServiceSet({ services: [{ name: 'bench-service', publicKey: defaultEd25519.publicKey(seed) }] })
  /** A service's submit request: fresh random entries (none on chain yet), signed once. */
  const submitRequest = (): Uint8Array => encode({ submission: signSubmission(CHAIN_ID, 0, new Uint8Array(randomBytes(32 * ENTRIES_PER_BATCH)), seed) })
  try {
    await store.open()
    await store.filterReady()
    const mempool = new Mempool(10 * ENTRIES_PER_BATCH)
    let tip: ChainTip = { height: 0, hash: new Uint8Array(32), time: 0 }
    let entries = 0
    let started = 0
    /** CPU spent making requests: the service's work, not the validator's. */
    let making = 0
    for (let batch = 0; ; batch++) {
      if (batch === WARMUP_BATCHES) { started = cpuMicros(); making = 0 }
      if (batch > WARMUP_BATCHES && cpuMicros() - started - making >= durationMs * 1000) break
      const before = cpuMicros()
      const bytes = submitRequest()
      making += cpuMicros() - before
      const { submission } = decode(SubmitRequestSchema, bytes, 64 * 1024)
      services.check(CHAIN_ID, submission)
      const onChain = await store.onChain(entriesOf(submission))
      if (!onChain.includes(true)) mempool.addAll([submission])
      const taken = mempool.take(ENTRIES_PER_BATCH)
      const block = buildBlock(CHAIN, tip, 0, Date.now(), taken)
      const hash = headerHash(block.header)
      const commit: Commit = { height: block.header.height, round: 0, blockHash: hash, signatures: [{ validator: 0, signature: new Uint8Array(64) }] }
      await store.commitBlock(block, commit, hash)
      mempool.removeCommitted(taken.flatMap(entriesOf))
      tip = { height: block.header.height, hash, time: block.header.time }
      if (batch >= WARMUP_BATCHES) entries += block.header.entryCount
    }
    return { usPerRecord: (cpuMicros() - started - making) / entries, records: entries }
  } finally {
    await store.close().catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  }
}
