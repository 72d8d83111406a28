import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { IndexArtifact } from '@kbuild/loader';
import { indexOf, storeNonCore } from '../../test/helpers/index-fixtures.js';
import { INDEX_KEY } from '../store/keys.js';
import { openStore } from '../store/open-store.js';
import { droppedEntries, droppedVerifications, lostEntriesMessage } from './unlocked-check.js';

const qemu = (release: string, result: 'ok' | 'failed') => ({
  method: 'qemu' as const,
  result,
  mode: 'non-core' as const,
  kernel: { distro: 'debian', release, arch: 'x86_64' as const },
});

describe('the re-read after an unlocked publish', () => {
  it('finds the artifacts and the QEMU records a concurrent publisher wrote back without', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kbuild-unlocked-'));
    const store = await openStore(dir);
    try {
      const a = await storeNonCore(store, 'p', '6.1.0-1-amd64', Buffer.from('a'));
      const b = await storeNonCore(store, 'p', '6.1.0-2-amd64', Buffer.from('b'));
      const verified: IndexArtifact[] = [
        { ...a, verification: [qemu('6.1.0-1-amd64', 'ok')] },
        { ...b, verification: [qemu('6.1.0-2-amd64', 'failed')] },
      ];
      const ours = indexOf(verified);
      // The concurrent publisher read the index before our verify wrote: b without its record, a as we wrote it.
      const theirs = indexOf([verified[0] as IndexArtifact, b]);
      await store.putBytes(INDEX_KEY, Buffer.from(JSON.stringify(theirs)));

      assert.deepEqual(await droppedVerifications(store, ours, 0), ['p/x86_64/p_debian_6.1.0-2-amd64.o (6.1.0-2-amd64, non-core)']);
      assert.deepEqual(await droppedEntries(store, ours, 0), [], 'both artifacts are still listed');
      await store.putBytes(INDEX_KEY, Buffer.from(JSON.stringify(ours)));
      assert.deepEqual(await droppedVerifications(store, ours, 0), []);
      await store.putBytes(INDEX_KEY, Buffer.from(JSON.stringify(indexOf([b]))));
      assert.deepEqual(await droppedEntries(store, ours, 0), ['p/x86_64/p_debian_6.1.0-1-amd64.o']);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says how many were lost, where, and what to do', () => {
    const text = lostEntriesMessage(['x', 'y'], 7, 'verification records this verify', 's3://b/p');
    assert.match(text, /^kbuild: error: E_INDEX_ENTRIES_LOST: 2 of 7 verification records this verify published to s3:\/\/b\/p were dropped/);
    assert.match(text, /publish again with --redis URL/);
  });
});
