/** ClientGate: bounded turns per client, a first-come line behind them, bounded too, and no overtaking. */
import { describe, expect, it } from 'vitest'
import { ClientGate } from '../../service/client-gate.js'

describe('ClientGate', () => {
  it('gives each client its own turns; waiting ones get them in arrival order, and a newcomer never overtakes', async () => {
    const gate = new ClientGate(2, 2)
    const a1 = await gate.enter('a')
    const a2 = await gate.enter('a')
    const order: string[] = []
    const a3 = gate.enter('a').then(leave => { order.push('a3'); return leave })
    const a4 = gate.enter('a').then(leave => { order.push('a4'); return leave })
    // The line is full: refused at once. Another client is not held up.
    expect(await gate.enter('a')).toBeUndefined()
    expect(await gate.enter('b')).toBeTypeOf('function')
    expect(gate.load('a')).toEqual({ active: 2, waiting: 2 })
    a1?.()
    a1?.() // a second call changes nothing
    const l3 = await a3
    expect(gate.load('a')).toEqual({ active: 2, waiting: 1 })
    a2?.()
    const l4 = await a4
    expect(order).toEqual(['a3', 'a4'])
    l3?.()
    l4?.()
    expect(gate.load('a')).toEqual({ active: 0, waiting: 0 })
  })

  it('drops a waiting request whose caller left', async () => {
    const gate = new ClientGate(1, 4)
    const first = await gate.enter('a')
    const gone = new AbortController()
    const waiting = gate.enter('a', gone.signal)
    gone.abort()
    expect(await waiting).toBeUndefined()
    expect(gate.load('a')).toEqual({ active: 1, waiting: 0 })
    first?.()
    expect(gate.load('a')).toEqual({ active: 0, waiting: 0 })
  })
})
