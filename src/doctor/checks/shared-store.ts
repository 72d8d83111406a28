import { statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { DEFAULT_QUEUE, DEFAULT_REDIS_URL, openRedis } from '../../queue/settings.js';
import { registeredHosts } from '../../queue/toolchains.js';
import type { DoctorCheck, DoctorContext } from '../types.js';

// statfs(2) f_type of filesystems other machines can mount too (linux/magic.h, fuse for glusterfs, sshfs, s3fs...).
const SHARED_FS: Readonly<Record<number, string>> = {
  0x6969: 'nfs', 0xff534d42: 'cifs', 0xfe534d42: 'smb2', 0x00c36400: 'ceph', 0x01021997: '9p', 0x65735546: 'fuse',
  0x01161970: 'gfs2', 0x7461636f: 'ocfs2', 0x0bd00bd0: 'lustre', 0x5346414f: 'afs', 0x47504653: 'gpfs',
};
const FIX = 'use an S3 store (--store s3://bucket/prefix), or mount the folder at the same path on every worker';

/**
 * --for farm with a folder --store: workers on other machines see that path
 * only through a shared mount (a worker that does not see it fails its jobs
 * with E_STORE_NOT_SHARED). Told from the folder's filesystem and from the
 * hosts whose workers registered with the queue ($KBUILD_QUEUE or "kbuild").
 */
export const sharedStore: DoctorCheck = {
  id: 'shared-store',
  title: 'folder store seen by all workers',
  required: (c) => c.purposes.has('farm') && isFolder(c.store),
  run: async (c) => {
    if (!c.purposes.has('farm')) return { status: 'skipped', detail: 'only with --for farm' };
    if (c.store === undefined || !isFolder(c.store)) return { status: 'skipped', detail: 'no folder --store (an S3 store is the same for every worker)' };
    const path = c.store.startsWith('file://') ? new URL(c.store).pathname : resolve(c.store);
    let existing = path;
    let fs = await statfs(existing).catch(() => undefined);
    while (fs === undefined && existing !== '/') fs = await statfs((existing = dirname(existing))).catch(() => undefined);
    const shared = fs === undefined ? undefined : SHARED_FS[fs.type];
    if (shared !== undefined) return { status: 'ok', detail: `${path} is on a shared mount (${shared}): workers that mount it at the same path see it` };
    const local = `folder store ${path} is on this machine's own disk`;
    const others = await otherHosts(c);
    if (others.length > 0) {
      return { status: 'problem', detail: `${local}, and workers on ${others.join(', ')} take jobs from the queue: they cannot see it (their jobs fail with E_STORE_NOT_SHARED)`, fix: FIX };
    }
    return { status: 'warn', detail: `${local}: only workers on this machine see it; workers on other machines refuse its jobs (E_STORE_NOT_SHARED)`, fix: FIX };
  },
};

function isFolder(store: string | undefined): boolean {
  return store !== undefined && (store.startsWith('file://') || !/^[a-z][a-z0-9+.-]*:\/\//i.test(store));
}

/** Hosts other than this one whose workers registered with the queue; none when Redis does not answer (the redis check says why). */
async function otherHosts(c: DoctorContext): Promise<string[]> {
  const redis = await openRedis(c.redisUrl ?? DEFAULT_REDIS_URL).catch(() => undefined);
  if (redis === undefined) return [];
  try {
    const hosts = await registeredHosts(redis, c.env['KBUILD_QUEUE'] ?? DEFAULT_QUEUE);
    return Object.keys(hosts).filter((h) => h !== hostname()).sort();
  } finally {
    redis.disconnect();
  }
}
