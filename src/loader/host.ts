import { access, readFile } from 'node:fs/promises';
import { arch as nodeArch, release as nodeRelease, version as nodeVersion } from 'node:os';
import type { IndexArch } from './index-schema.js';

/** What the loader needs to know about the machine it wakes up on. */
export interface HostIdentity {
  readonly distro: string;
  readonly release: string;
  readonly version: string;
  readonly arch: IndexArch;
  readonly hasBtf: boolean;
}

export const HOST_BTF_PATH = '/sys/kernel/btf/vmlinux';

/** /etc/os-release IDs mapped to the distro names used in the index. */
const DISTRO_IDS: Readonly<Record<string, string>> = {
  debian: 'debian',
  ubuntu: 'ubuntu',
  centos: 'centos',
  rhel: 'rhel',
  rocky: 'rocky',
  almalinux: 'almalinux',
  fedora: 'fedora',
  amzn: 'amzn',
};

export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] === undefined || match[2] === undefined) continue;
    fields[match[1]] = match[2].replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return fields;
}

export function distroFromOsRelease(fields: Record<string, string>): string {
  const id = fields['ID'] ?? 'unknown';
  if (Object.hasOwn(DISTRO_IDS, id)) return DISTRO_IDS[id] ?? id;
  for (const like of (fields['ID_LIKE'] ?? '').split(/\s+/)) {
    if (Object.hasOwn(DISTRO_IDS, like)) return DISTRO_IDS[like] ?? like;
  }
  return id;
}

export function normalizeArch(machine: string): IndexArch | undefined {
  if (machine === 'x64' || machine === 'x86_64' || machine === 'amd64') return 'x86_64';
  if (machine === 'arm64' || machine === 'aarch64') return 'arm64';
  return undefined;
}

export async function detectHost(overrides: Partial<HostIdentity> = {}): Promise<HostIdentity> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const arch = overrides.arch ?? normalizeArch(nodeArch());
  if (arch === undefined) throw new Error(`unsupported machine architecture ${nodeArch()}`);
  const hasBtf =
    overrides.hasBtf ??
    (await access(HOST_BTF_PATH).then(
      () => true,
      () => false,
    ));
  return {
    distro: overrides.distro ?? distroFromOsRelease(parseOsRelease(osRelease)),
    release: overrides.release ?? nodeRelease(),
    version: overrides.version ?? nodeVersion(),
    arch,
    hasBtf,
  };
}
