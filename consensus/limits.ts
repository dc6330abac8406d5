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
  /** Every record's salt: 256 random bits, so an entry cannot be confirmed by guessing the record. */
  saltBytes: 32,
  /** Hard ceiling on entries per block whatever the genesis says. */
  blockEntriesCeiling: 50_000,
  /** Entries one service signs in one submission. */
  submissionEntriesCeiling: 1000,
  /** Submissions in one gossip message. */
  gossipSubmissionsCeiling: 64,
  /** Registered services; a leaf holds the index in two bytes. */
  servicesCeiling: 1024,
  /** Largest consensus message on the wire (a full proposal). */
  messageBytes: 16 * 1024 * 1024,
  validatorsCeiling: 256,
  roundCeiling: 10_000,
  merkleDepthCeiling: 32
} as const
