/**
 * Real faults on real processes (4 validators and a service on loopback): SIGKILL of a follower,
 * of the leader, of everything at once; SIGSTOP of a validator; partitions 2|2 and 3|1 cut in
 * the validators' connection gaters. After each: identical chains everywhere, nothing certified
 * lost, pending items certified. Timings are printed as JSON lines.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { verifyCertificate } from '../../consensus/certificate.js'
import { certificateFromJson } from '../../consensus/json.js'
import { ProcessCluster } from '../../cli/process-cluster.js'
import { waitFor } from '../../lib/wait-for.js'
import { chainHashes, nodeStatus, startLoad, type LoadResult } from '../helpers/load.js'

let cluster: ProcessCluster | undefined

afterEach(async () => {
  await cluster?.destroy()
  cluster = undefined
})

async function startCluster (): Promise<ProcessCluster> {
  cluster = await ProcessCluster.create({ validators: 4, env: { TRUSTNET_FAULT_INJECTION: '1' }, serviceConfig: { certificateWaitMs: 20_000 } })
  await cluster.startNodes()
  await cluster.startService()
  return cluster
}

const heightOf = async (c: ProcessCluster, i: number): Promise<number> => (await nodeStatus(c.nodeUrls[i] as string)).height

/** Wait until the given validators all reach `height`. */
async function reach (c: ProcessCluster, nodes: number[], height: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(`validators ${nodes.join(',')} at height ${height}`, async () => {
    const heights = await Promise.all(nodes.map(async i => await heightOf(c, i)))
    return heights.every(h => h >= height) ? true : undefined
  }, timeoutMs)
}

/** Every validator holds the same block at every height up to the lowest tip. */
async function expectIdenticalChains (c: ProcessCluster, nodes: number[] = [0, 1, 2, 3]): Promise<number> {
  const heights = await Promise.all(nodes.map(async i => await heightOf(c, i)))
  const upTo = Math.min(...heights)
  const chains = await Promise.all(nodes.map(async i => await chainHashes(c.nodeUrls[i] as string, upTo)))
  for (const chain of chains.slice(1)) expect(chain).toEqual(chains[0])
  return upTo
}

/** Every certificate handed out verifies, and every accepted item ends up certified with it unchanged. */
async function expectNothingLost (c: ProcessCluster, load: LoadResult): Promise<void> {
  for (const [id, cert] of load.certified) {
    expect(verifyCertificate(c.genesis, certificateFromJson(cert))).toMatchObject({ valid: true, service: c.genesis.services[0]?.name })
    const res = await fetch(`${c.serviceUrl}/v1/data/${id}/certificate`, { headers: { authorization: `Bearer ${c.apiKey}` } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual(cert)
  }
  for (const id of load.accepted) {
    const cert = await waitFor(`certificate of accepted item ${id}`, async () => {
      const res = await fetch(`${c.serviceUrl}/v1/data/${id}/certificate`, { headers: { authorization: `Bearer ${c.apiKey}` } })
      return res.status === 200 ? await res.json() : undefined
    }, 60_000, 200)
    expect(verifyCertificate(c.genesis, certificateFromJson(cert))).toMatchObject({ valid: true, service: c.genesis.services[0]?.name })
  }
}

async function conflictsLogged (c: ProcessCluster): Promise<boolean> {
  const logs = await Promise.all([0, 1, 2, 3].map(async i => await readFile(join(c.dir, 'logs', `node-${i}.log`), 'utf8').catch(() => '')))
  return logs.some(l => l.includes('signed conflicting messages'))
}

const report = (metric: string, value: number, unit: string): void => {
  console.log(JSON.stringify({ metric, value, unit }))
}

describe('faults with real processes', () => {
  it('kill -9 of a follower: commits go on, and the restarted node catches up to the same chain', async () => {
    const c = await startCluster()
    const load = startLoad(() => c.serviceUrl, c.apiKey)
    await waitFor('some certified items', async () => load.certifiedCount >= 20 ? true : undefined)
    const status = await nodeStatus(c.nodeUrls[0] as string)
    const follower = [0, 1, 2, 3].find(i => i !== (status.height + 1) % 4) as number
    await c.stopNode(follower, 'SIGKILL')
    const before = await heightOf(c, (follower + 1) % 4)
    const others = [0, 1, 2, 3].filter(i => i !== follower)
    await reach(c, others, before + 5)
    await c.startNode(follower)
    const caughtUpFrom = Date.now()
    const from = await heightOf(c, follower)
    const target = await heightOf(c, (follower + 1) % 4)
    await reach(c, [follower], target)
    const seconds = (Date.now() - caughtUpFrom) / 1000
    let records = 0
    for (let h = from + 1; h <= target; h++) records += (await fetch(`${c.nodeUrls[follower]}/blocks/${h}`).then(async r => await r.json() as { block: { header: { entryCount: number } } })).block.header.entryCount
    report('follower_catch_up_ms', Math.round(seconds * 1000), 'ms')
    report('catch_up_blocks_per_s', Math.round((target - from) / seconds), 'blocks/s')
    report('catch_up_records_per_s', Math.round(records / seconds), 'records/s')
    const result = await load.stop()
    await reach(c, [0, 1, 2, 3], Math.max(...await Promise.all([0, 1, 2, 3].map(async i => await heightOf(c, i)))))
    expect(await expectIdenticalChains(c)).toBeGreaterThan(before)
    await expectNothingLost(c, result)
  }, 240_000)

  it('kill -9 of the leader: the next round\'s leader takes over after the timeout', async () => {
    const c = await startCluster()
    const load = startLoad(() => c.serviceUrl, c.apiKey)
    await waitFor('some certified items', async () => load.certifiedCount >= 20 ? true : undefined)
    const status = await nodeStatus(c.nodeUrls[0] as string)
    const leader = (status.height + 1) % 4 // leader of the next height, round 0
    const witness = (leader + 1) % 4
    const h = await heightOf(c, witness)
    const killedAt = Date.now()
    await c.stopNode(leader, 'SIGKILL')
    // The first height the dead validator should have led (round 0 leader = height mod 4) can only
    // commit in a later round; height h+1 may already have its proposal out, so start after it.
    let led = h + 2
    while (led % 4 !== leader) led++
    const seen = new Map<number, number>()
    await waitFor(`height ${led}, led by the dead validator`, async () => {
      const now = await heightOf(c, witness)
      if (!seen.has(now)) seen.set(now, Date.now())
      return now >= led ? true : undefined
    }, 60_000, 20)
    report('first_commit_after_leader_kill_ms', (Math.min(...[...seen].filter(([height]) => height > h).map(([, t]) => t))) - killedAt, 'ms')
    const before = [...seen].filter(([height]) => height < led).map(([, t]) => t)
    report('leader_failover_ms', (seen.get(led) as number) - Math.max(killedAt, ...before), 'ms')
    const round = await fetch(`${c.nodeUrls[witness]}/blocks/${led}`).then(async r => await r.json() as { commit: { round: number } })
    expect(round.commit.round).toBeGreaterThanOrEqual(1)
    await reach(c, [0, 1, 2, 3].filter(i => i !== leader), h + 5)
    await c.startNode(leader)
    const result = await load.stop()
    const top = Math.max(...await Promise.all([0, 1, 2, 3].map(async i => await heightOf(c, i))))
    await reach(c, [0, 1, 2, 3], top)
    await expectIdenticalChains(c)
    await expectNothingLost(c, result)
  }, 240_000)

  it('kill -9 of every process at once: after restart nothing certified is lost and pending items finish', async () => {
    const c = await startCluster()
    const load = startLoad(() => c.serviceUrl, c.apiKey, { waitShare: 0.5 })
    await waitFor('some certified items', async () => load.certifiedCount >= 30 ? true : undefined)
    await Promise.all([...[0, 1, 2, 3].map(async i => await c.stopNode(i, 'SIGKILL')), c.stopService('SIGKILL')])
    const result = await load.stop()
    await c.startNodes()
    await c.startService()
    await expectNothingLost(c, result)
    await expectIdenticalChains(c)
    expect(await conflictsLogged(c)).toBe(false)
  }, 240_000)

  it('SIGSTOP of a validator for several rounds: after SIGCONT it catches up', async () => {
    const c = await startCluster()
    const load = startLoad(() => c.serviceUrl, c.apiKey)
    await waitFor('some certified items', async () => load.certifiedCount >= 10 ? true : undefined)
    const frozen = 2
    const h = await heightOf(c, 0)
    c.nodes[frozen]?.kill('SIGSTOP')
    await reach(c, [0, 1, 3], h + 10)
    c.nodes[frozen]?.kill('SIGCONT')
    const resumedAt = Date.now()
    const target = await heightOf(c, 0)
    await reach(c, [frozen], target)
    report('frozen_catch_up_ms', Date.now() - resumedAt, 'ms')
    const result = await load.stop()
    await reach(c, [0, 1, 2, 3], Math.max(...await Promise.all([0, 1, 2, 3].map(async i => await heightOf(c, i)))))
    await expectIdenticalChains(c)
    await expectNothingLost(c, result)
  }, 240_000)

  it('partition 2|2 commits nothing, and commits resume once healed; 3|1: the 3 go on, the 1 catches up', async () => {
    const c = await startCluster()
    const cut = async (groups: number[][]): Promise<void> => {
      await Promise.all(groups.flatMap(g => g.map(async i => {
        const blocked = [0, 1, 2, 3].filter(j => !g.includes(j))
        const res = await fetch(`${c.nodeUrls[i]}/admin/links`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ blockedValidators: blocked }) })
        expect(res.status).toBe(200)
      })))
    }
    const load = startLoad(() => c.serviceUrl, c.apiKey, { waitShare: 0 })
    await waitFor('some accepted items', async () => (await heightOf(c, 0)) >= 3 ? true : undefined)

    await cut([[0, 1], [2, 3]])
    // Whatever was in flight settles: every validator is past the propose step of its height,
    // waiting for votes only the other side could give. From then on neither side may commit.
    const frozen = await waitFor('every validator waiting for votes across the cut', async () => {
      const statuses = await Promise.all([0, 1, 2, 3].map(async i => await nodeStatus(c.nodeUrls[i] as string)))
      return statuses.every(s => s.step === 'prevote' || s.step === 'precommit') ? statuses.map(s => s.height) : undefined
    }, 30_000)
    // Records reach both sides (each mempool holds some), and a request sent now waits the
    // service's whole certificate wait (20 s) and comes back pending: no commit anywhere meanwhile.
    const pending = await fetch(`${c.serviceUrl}/v1/data?name=during-partition`, { method: 'POST', body: 'sent across a 2|2 cut', headers: { authorization: `Bearer ${c.apiKey}`, 'content-type': 'text/plain' } })
    expect(pending.status).toBe(202)
    const after = await Promise.all([0, 1, 2, 3].map(async i => await nodeStatus(c.nodeUrls[i] as string)))
    expect(after.every(s => s.mempool > 0)).toBe(true)
    expect(after.map(s => s.height)).toEqual(frozen)

    await cut([[0, 1, 2, 3]])
    const healedAt = Date.now()
    await reach(c, [0, 1, 2, 3], Math.max(...frozen) + 2)
    report('partition_heal_to_commit_ms', Date.now() - healedAt, 'ms')

    await cut([[0, 1, 2], [3]])
    const h = await heightOf(c, 0)
    await reach(c, [0, 1, 2], h + 5)
    await cut([[0, 1, 2, 3]])
    await reach(c, [3], await heightOf(c, 0))
    const result = await load.stop()
    await reach(c, [0, 1, 2, 3], Math.max(...await Promise.all([0, 1, 2, 3].map(async i => await heightOf(c, i)))))
    await expectIdenticalChains(c)
    expect(await conflictsLogged(c)).toBe(false)
    await expectNothingLost(c, result)
  }, 240_000)
})
