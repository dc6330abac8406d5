/**
 * Evidence end to end in one validator: conflicting votes reach the driver, the machine reports
 * them, the driver keeps them in the chain store, and after a restart the operator API serves
 * them; bad queries get a 400 with a code.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { toJson } from '../../consensus/json.js'
import { buildNodeHttpApi } from '../../node/http-api.js'
import { makeNetwork, signVote } from '../helpers/fixtures.js'
import { startDriver, type DriverHarness } from '../helpers/driver-harness.js'

const net = makeNetwork(4)
const now = (): number => net.genesis.genesisTime + 10_000

describe('evidence of conflicting messages', () => {
  let h: DriverHarness | undefined
  afterEach(async () => { await h?.close() })

  it('is kept by the driver and served by the API after a restart', async () => {
    h = await startDriver(net, 0, now)
    const first = signVote(net, 3, 'prevote', 1, 2, null)
    const second = signVote(net, 3, 'prevote', 1, 2, new Uint8Array(32).fill(5))
    await h.driver.deliver({ type: 'vote', vote: first })
    await h.driver.deliver({ type: 'vote', vote: second })
    // A liar repeating itself adds nothing.
    await h.driver.deliver({ type: 'vote', vote: second })
    expect(await h.store.evidence(0, 10)).toHaveLength(1)
    await h.stop()

    h = await startDriver(net, 0, now, h.dir)
    const app = buildNodeHttpApi({
      genesis: net.genesis,
      index: 0,
      peerId: 'peer-0',
      validatorPeerIds: ['peer-0', 'peer-1', 'peer-2', 'peer-3'],
      driver: h.driver,
      store: h.store,
      connectedPeers: () => []
    })
    try {
      const all = await app.inject({ method: 'GET', url: '/evidence' })
      expect(all.statusCode).toBe(200)
      expect(all.json()).toEqual({ evidence: [toJson({ kind: 'conflicting-votes', validator: 3, height: 1, round: 2, first, second })] })
      expect((await app.inject({ method: 'GET', url: '/evidence?fromHeight=1&limit=1' })).json().evidence).toHaveLength(1)
      expect((await app.inject({ method: 'GET', url: '/evidence?fromHeight=2' })).json()).toEqual({ evidence: [] })
      for (const query of ['limit=0', 'limit=101', 'fromHeight=-1', 'fromHeight=abc', 'fromHeight=1.5', 'limit=', 'other=1']) {
        const bad = await app.inject({ method: 'GET', url: `/evidence?${query}` })
        expect([query, bad.statusCode, bad.json().error.code]).toEqual([query, 400, 'INVALID_FIELD'])
      }
    } finally {
      await app.close()
    }
  })
})
