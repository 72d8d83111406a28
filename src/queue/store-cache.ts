import { openStore } from '../store/open-store.js';
import type { ArtifactStore } from '../store/types.js';

/** One open store per URL for the life of a worker: jobs of many submissions share them. */
export class StoreCache {
  private readonly stores = new Map<string, Promise<ArtifactStore>>();

  open = (url: string): Promise<ArtifactStore> => {
    let store = this.stores.get(url);
    if (store === undefined) {
      store = openStore(url);
      // A store that failed to open is not cached: the next job tries again.
      store.catch(() => this.stores.delete(url));
      this.stores.set(url, store);
    }
    return store;
  };

  async close(): Promise<void> {
    const stores = await Promise.allSettled(this.stores.values());
    this.stores.clear();
    await Promise.allSettled(stores.flatMap((s) => (s.status === 'fulfilled' ? [s.value.close()] : [])));
  }
}
