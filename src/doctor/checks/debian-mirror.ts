import { findMirror } from '../../../builders/debian/mirror.js';
import { errorMessage } from '../../errors.js';
import { fetchBuffer } from '@kbuild/loader/internal';
import type { DoctorCheck } from '../types.js';

/** Builds download Debian kernels' packages from the mirror in the host's apt sources (or KBUILD_DEBIAN_MIRROR). */
export const debianMirror: DoctorCheck = {
  id: 'debian-mirror',
  title: 'Debian mirror',
  required: (c) => c.purposes.has('build') || c.purposes.has('farm'),
  run: async (c) => {
    let mirror;
    try {
      mirror = await findMirror({ env: c.env });
    } catch (err) {
      return { status: 'problem', detail: errorMessage(err), fix: 'set KBUILD_DEBIAN_MIRROR=http://MIRROR/debian or mirrors.debian in kernels.yaml' };
    }
    // The stable suite's Release file exists on every Debian mirror and is small.
    const url = `${mirror.url}/dists/stable/Release`;
    try {
      const body = await fetchBuffer(url, { attempts: 1, timeoutMs: 8_000, signal: c.signal }, { maxBytes: 4 << 20 });
      const codename = /^Codename:\s*(\S+)/m.exec(body.toString('utf8'))?.[1];
      return { status: 'ok', detail: `${mirror.url} (from ${mirror.source}) answers${codename === undefined ? '' : `; stable is ${codename}`}` };
    } catch (err) {
      return {
        status: 'problem',
        detail: `${mirror.url} (from ${mirror.source}) does not answer: ${errorMessage(err)}`,
        fix: 'check the network/proxy, or point KBUILD_DEBIAN_MIRROR (or mirrors.debian in kernels.yaml) at a reachable mirror',
      };
    }
  },
};
