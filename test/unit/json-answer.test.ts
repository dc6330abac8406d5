import { describe, expect, it } from 'vitest'
import type { Json } from '../../consensus/json.js'
import { listAnswer } from '../../service/json-answer.js'

const item = (i: number): Json => ({ id: i.toString(16).padStart(64, '0'), name: `file "${i}" – Zürich 東京 😀 \\ \n`, n: i, ok: i % 2 === 0, none: null, list: [i, 'x', [{}]] })

describe('a JSON answer holding a list', () => {
  it('is byte for byte JSON.stringify of the whole answer, for lists shorter, as long as and longer than a piece', () => {
    for (const n of [0, 1, 2, 31, 32, 33, 64, 65, 1000]) {
      const items = Array.from({ length: n }, (_, i) => item(i))
      expect(listAnswer('items', items).equals(Buffer.from(JSON.stringify({ items })))).toBe(true)
    }
  })

  it('escapes the key as JSON does', () => {
    expect(listAnswer('a"b', [1]).toString()).toBe(JSON.stringify({ 'a"b': [1] }))
  })
})
