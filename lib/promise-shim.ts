/**
 * Polyfill for `Promise.withResolvers` (ES2024). Node 20 lacks it, yet libp2p's dependencies
 * (it-queue, mortice, @libp2p/utils, yamux) call it at runtime. Every entry point imports this
 * module before anything from libp2p. On Node 22+ the native method exists and this is a no-op.
 */

interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const ctor = Promise as PromiseConstructor & { withResolvers?: unknown }

if (typeof ctor.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    // `this` keeps subclass semantics, as the spec does.
    value: function withResolvers<T> (this: PromiseConstructor): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      const promise = new this<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    },
    writable: true,
    configurable: true,
    enumerable: false
  })
}

export {}
