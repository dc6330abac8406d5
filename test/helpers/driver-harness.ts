/**
 * A consensus driver over a real Machine and a ChainStore in a temporary directory, with a fake
 * network: what it publishes and writes is recorded in one ordered list, blocks it asks peers
 * for come from a function the test sets. For driver and node API tests; close() removes it all.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { Machine } from '../../consensus/machine.js'
import type { ConsensusMessage } from '../../consensus/types.js'
import { ConsensusDriver } from '../../node/driver.js'
import { ChainStore, type StoredBlock } from '../../node/store/chain-store.js'
import { genesisTip, type TestNetwork } from './fixtures.js'

export interface DriverHarness {
  dir: string
  store: ChainStore
  machine: Machine
  driver: ConsensusDriver
  /** 'persist <message>' and 'publish <message>' in the order they happened. */
  calls: string[]
  fetches: Array<{ from: number, fromHeight: number }>
  /** What fetchBlocks answers; none by default. */
  blocks: StoredBlock[]
  /** Stop the driver and close the store (the directory stays, for a restart). */
  stop: () => Promise<void>
  /** stop(), then remove the directory. */
  close: () => Promise<void>
}

export function describeMessage (m: ConsensusMessage): string {
  switch (m.type) {
    case 'vote': return `${m.vote.type} h${m.vote.height} r${m.vote.round} v${m.vote.validator} ${m.vote.blockHash === null ? 'nil' : 'block'}`
    case 'proposal': return `proposal h${m.proposal.height} r${m.proposal.round}`
    case 'committed': return `committed h${m.block.header.height}`
    case 'submissions': return `submissions ${m.submissions.length}`
  }
}

export async function startDriver (net: TestNetwork, index: number, now: () => number, dir?: string, options: { gossipSubmissions?: boolean } = {}): Promise<DriverHarness> {
  const home = dir ?? await mkdtemp(join(tmpdir(), 'trustnet-driver-'))
  const store = new ChainStore(home)
  await store.open()
  const tip = await store.tip() ?? genesisTip(net)
  const machine = new Machine({ genesis: net.genesis, tip, self: { index, seed: net.seeds[index] as Uint8Array }, isCommitted: entry => store.isCommitted(entry) })
  machine.restore((await store.signed(tip.height + 1)).messages)
  const calls: string[] = []
  const fetches: Array<{ from: number, fromHeight: number }> = []
  const appendSigned = store.appendSigned.bind(store)
  store.appendSigned = async messages => {
    for (const m of messages) calls.push(`persist ${describeMessage(m)}`)
    await appendSigned(messages)
  }
  const harness: DriverHarness = {
    dir: home,
    store,
    machine,
    calls,
    fetches,
    blocks: [],
    driver: new ConsensusDriver({
      machine,
      store,
      now,
      log: pino({ level: 'silent' }),
      ...options,
      publish: message => { calls.push(`publish ${describeMessage(message)}`) },
      fetchBlocks: async (from, fromHeight) => {
        fetches.push({ from, fromHeight })
        return harness.blocks.filter(b => b.block.header.height >= fromHeight)
      }
    }),
    stop: async () => {
      await harness.driver.stop()
      await store.close()
    },
    close: async () => {
      await harness.stop().catch(() => undefined)
      await rm(home, { recursive: true, force: true })
    }
  }
  await harness.driver.start()
  return harness
}
