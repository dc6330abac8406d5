/**
 * Validators of a test network (fixtures.ts: its keys and registered services) running in this
 * process on real libp2p and LevelDB: their home directories are written to a temporary
 * directory as `trustnet init` lays them out, on a free block of ports, and the nodes started.
 * The test holds the services' seeds, so it can sign submissions as a registered service would.
 *
 *   const cluster = await startCluster(makeNetwork(4))
 *   ... cluster.nodes[0].driver ...
 *   await cluster.stop()
 */
import '../../lib/promise-shim.js'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { clusterOffsets, freePortBase } from '../../cli/free-ports.js'
import { toJson } from '../../consensus/json.js'
import type { NodeConfig } from '../../node/config.js'
import { startNode, type RunningNode } from '../../node/node.js'
import { peerIdFromEd25519PublicKey } from '../../net/host.js'
import type { TestNetwork } from './fixtures.js'

export interface NodeCluster {
  dir: string
  nodes: RunningNode[]
  /** Stops every node and removes the directory. */
  stop: () => Promise<void>
}

export async function startCluster (net: TestNetwork): Promise<NodeCluster> {
  const n = net.seeds.length
  const dir = await mkdtemp(join(tmpdir(), 'trustnet-cluster-'))
  const nodes: RunningNode[] = []
  const stop = async (): Promise<void> => {
    await Promise.allSettled(nodes.map(async node => { await node.stop() }))
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const base = await freePortBase(clusterOffsets(n))
    const p2p = net.genesis.validators.map((v, i) => `/ip4/127.0.0.1/tcp/${base + i}/p2p/${peerIdFromEd25519PublicKey(v.publicKey)}`)
    await writeFile(join(dir, 'genesis.json'), JSON.stringify(toJson(net.genesis)))
    const homes = net.seeds.map((_, i) => join(dir, `node-${i}`))
    for (let i = 0; i < n; i++) {
      const config: NodeConfig = {
        index: i,
        seed: Buffer.from(net.seeds[i] as Uint8Array).toString('hex'),
        listen: `/ip4/127.0.0.1/tcp/${base + i}`,
        http: { host: '127.0.0.1', port: base + 100 + i },
        peers: p2p.filter((_, j) => j !== i),
        genesis: '../genesis.json',
        dataDir: 'data'
      }
      await mkdir(homes[i] as string)
      await writeFile(join(homes[i] as string, 'node.json'), JSON.stringify(config))
    }
    const started = await Promise.allSettled(homes.map(async home => await startNode(home)))
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value)
    const failed = started.find(s => s.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    return { dir, nodes, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
