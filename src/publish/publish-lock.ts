/**
 * Publishing is read-modify-write of index.json, and S3 servers such as Ceph's
 * RGW do not enforce conditional PUTs, so every publisher of one store takes
 * the same lock for the whole read-merge-write.
 */
export interface PublishLease {
  /** Throws when the lock expired while held (a stalled publisher): writing then could lose entries. */
  assertHeld(): void;
}

export interface PublishLock {
  /** What is locked, for messages. */
  readonly name: string;
  withLock<T>(fn: (lease: PublishLease) => Promise<T>): Promise<T>;
  /** Frees connections the lock opened itself; idempotent. */
  close(): Promise<void>;
}

/** For a store only one publisher ever writes (stated by the caller, never assumed). */
export const noPublishLock: PublishLock = {
  name: 'none',
  withLock: (fn) => fn({ assertHeld: () => undefined }),
  close: async () => undefined,
};
