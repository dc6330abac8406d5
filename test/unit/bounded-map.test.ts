/**
 * BoundedMap: never more than its capacity, evicting the first inserted entry, or with
 * touchOnGet the least recently used one; replacing a present key evicts nothing.
 */
import { describe, expect, it } from 'vitest'
import { BoundedMap } from '../../lib/bounded-map.js'

const present = <K>(map: BoundedMap<K, unknown>, keys: K[]): K[] => keys.filter(k => map.has(k))

describe('BoundedMap', () => {
  it('evicts the first inserted entry once full, however often it was read', () => {
    const map = new BoundedMap<string, number>(3)
    for (const [i, k] of ['a', 'b', 'c'].entries()) map.set(k, i)
    expect(map.get('a')).toBe(0)
    map.set('d', 3)
    expect(map.size).toBe(3)
    expect(present(map, ['a', 'b', 'c', 'd'])).toEqual(['b', 'c', 'd'])
    expect(map.get('a')).toBeUndefined()
  })

  it('replaces a present key in place: nothing is evicted and its age is kept', () => {
    const map = new BoundedMap<string, number>(2)
    map.set('a', 1).set('b', 2).set('a', 10)
    expect(map.size).toBe(2)
    expect(map.get('a')).toBe(10)
    map.set('c', 3)
    expect(present(map, ['a', 'b', 'c'])).toEqual(['b', 'c'])
  })

  it('with touchOnGet evicts the least recently used entry', () => {
    const map = new BoundedMap<number, string>(3, { touchOnGet: true })
    map.set(1, 'one').set(2, 'two').set(3, 'three')
    expect(map.get(1)).toBe('one')
    map.set(2, 'TWO')
    map.set(4, 'four')
    expect(present(map, [1, 2, 3, 4])).toEqual([1, 2, 4])
    map.set(5, 'five')
    expect(present(map, [1, 2, 3, 4, 5])).toEqual([2, 4, 5])
  })

  it('holds at most its capacity under many distinct keys', () => {
    const map = new BoundedMap<number, number>(100)
    for (let i = 0; i < 10_000; i++) map.set(i, i)
    expect(map.size).toBe(100)
    expect(map.has(9_899)).toBe(false)
    expect(map.has(9_900)).toBe(true)
  })

  it('deletes and clears', () => {
    const map = new BoundedMap<string, number>(2)
    map.set('a', 1).set('b', 2)
    expect(map.delete('a')).toBe(true)
    expect(map.delete('a')).toBe(false)
    map.set('c', 3)
    expect(present(map, ['a', 'b', 'c'])).toEqual(['b', 'c'])
    map.clear()
    expect(map.size).toBe(0)
  })

  it('refuses a capacity that is not a positive integer', () => {
    for (const capacity of [0, -1, 1.5, NaN]) expect(() => new BoundedMap(capacity)).toThrow(RangeError)
  })
})
