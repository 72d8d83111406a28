/**
 * Lets an extraction write many small files at once: the tar is parsed in
 * order, but each small file's bytes, once read, are written while the parser
 * moves on. On a tree of 10k headers the writes (open, write, close, each a
 * round trip to libuv's threads) are what costs, not the parsing. At most
 * `limit` writes are in flight, so memory stays at `limit` small files.
 */
export class WritePool {
  private readonly pending = new Map<string, Promise<void>>();
  private failure: unknown;
  private failed = false;

  constructor(private readonly limit: number) {}

  /** Starts `write` for `path`; waits first when `limit` writes are already in flight. */
  async add(path: string, write: () => Promise<void>): Promise<void> {
    this.check();
    while (this.pending.size >= this.limit) await Promise.race(this.pending.values());
    this.check();
    const job = write()
      .catch((err: unknown) => {
        if (!this.failed) {
          this.failed = true;
          this.failure = err;
        }
      })
      .finally(() => this.pending.delete(path));
    this.pending.set(path, job);
  }

  /** Waits for the write of `path`, if one is in flight (before linking to it or replacing it). */
  async settle(path: string): Promise<void> {
    await this.pending.get(path);
    this.check();
  }

  /** Waits for every write; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.pending.values());
    this.check();
  }

  private check(): void {
    if (this.failed) throw this.failure;
  }
}
