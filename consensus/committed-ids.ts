/**
 * Whether an entry is already on chain, as the machine must judge it: the node's lookup (its
 * store), plus the entries of the blocks decided in the current step. The node writes a block
 * when it carries out the commit action, after the step, so within the step (a proposal of the
 * next height replayed right after a commit) only the machine knows.
 */
import { idKey } from './ids.js'

export class CommittedIds {
  private readonly decidedThisStep = new Set<string>()

  constructor (private readonly lookup: (entry: Uint8Array) => boolean) {}

  readonly has = (entry: Uint8Array): boolean => (this.decidedThisStep.size > 0 && this.decidedThisStep.has(idKey(entry))) || this.lookup(entry)

  decided (entries: readonly Uint8Array[]): void {
    for (const entry of entries) this.decidedThisStep.add(idKey(entry))
  }

  /** A new step: every block decided before it has been written where the lookup sees it. */
  newStep (): void {
    if (this.decidedThisStep.size > 0) this.decidedThisStep.clear()
  }
}
