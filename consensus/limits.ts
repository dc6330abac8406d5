/**
 * Size bounds of everything that crosses a trust boundary. Checked at decode time, before any
 * state changes, so a peer or client cannot make a node hold or hash unbounded input.
 */
export const LIMITS = {
  hashBytes: 32,
  publicKeyBytes: 32,
  signatureBytes: 64,
  chainIdChars: 64,
  serviceIdChars: 64,
  nameChars: 256,
  contentTypeChars: 128,
  ownerChars: 128,
  /** Largest canonical encoding of one ledger record. */
  recordBytes: 1024,
  /** Hard ceiling on records per block whatever the genesis says. */
  blockRecordsCeiling: 20_000,
  /** Largest consensus message on the wire (a full proposal). */
  messageBytes: 16 * 1024 * 1024,
  validatorsCeiling: 256,
  roundCeiling: 10_000,
  merkleDepthCeiling: 32
} as const
