/** The one error class of `trustnet netsim`: a stable `code` for each way a run can be refused or fail. */
export type NetsimErrorCode =
  | 'NOT_ROOT'
  | 'MISSING_TOOL'
  | 'LEFTOVERS'
  | 'COMMAND_FAILED'
  | 'SCENARIO_UNREADABLE'
  | 'SCENARIO_INVALID'
  | 'NOT_READY'
  | 'PROCESS_EXITED'

export class NetsimError extends Error {
  override readonly name = 'NetsimError'
  constructor (readonly code: NetsimErrorCode, message: string) {
    super(message)
  }
}
