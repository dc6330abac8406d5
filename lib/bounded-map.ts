/**
 * A Map that holds at most `capacity` entries: adding one more evicts the oldest. Oldest means
 * first inserted, or, with `touchOnGet`, least recently read or written (LRU). Pure: no clock,
 * so consensus code may use it and stay deterministic.
 */

export interface BoundedMapOptions {
  /** A read (get) or a write of a present key makes it the newest: least-recently-used eviction. @default false */
  touchOnGet?: boolean
}

export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>()
  private readonly touchOnGet: boolean

  constructor (readonly capacity: number, options: BoundedMapOptions = {}) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`)
    this.touchOnGet = options.touchOnGet ?? false
  }

  get size (): number {
    return this.entries.size
  }

  has (key: K): boolean {
    return this.entries.has(key)
  }

  get (key: K): V | undefined {
    const value = this.entries.get(key)
    if (this.touchOnGet && value !== undefined) {
      this.entries.delete(key)
      this.entries.set(key, value)
    }
    return value
  }

  /** Adds or replaces `key`; a new key beyond capacity evicts the oldest entry. */
  set (key: K, value: V): this {
    if (this.entries.has(key)) {
      if (this.touchOnGet) this.entries.delete(key)
    } else if (this.entries.size >= this.capacity) {
      this.entries.delete(this.entries.keys().next().value as K)
    }
    this.entries.set(key, value)
    return this
  }

  delete (key: K): boolean {
    return this.entries.delete(key)
  }

  clear (): void {
    this.entries.clear()
  }
}
