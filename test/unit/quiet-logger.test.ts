import { describe, expect, it } from 'vitest'
import { libp2pLogger } from '../../net/quiet-logger.js'

describe('libp2pLogger', () => {
  it('gives one inert logger for every component and scope when DEBUG is unset or blank', () => {
    for (const env of [{}, { DEBUG: '' }, { DEBUG: '  ' }]) {
      const components = libp2pLogger(env)
      expect(components).toBeDefined()
      const log = components!.forComponent('libp2p:yamux')
      expect(log.enabled).toBe(false)
      expect(log.newScope('inbound:1')).toBe(log)
      expect(components!.forComponent('libp2p:noise')).toBe(log)
      expect(() => { log('x %s', 1); log.error('y'); log.trace('z') }).not.toThrow()
    }
  })

  it("leaves libp2p's own logger in place when DEBUG names anything", () => {
    expect(libp2pLogger({ DEBUG: 'libp2p:*' })).toBeUndefined()
  })
})
