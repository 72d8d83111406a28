import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
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

/**
 * What the running kernel says about its distro: Ubuntu's `uname -v` reads
 * "#94-Ubuntu SMP ...", Debian's "#1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1",
 * and RPM kernels carry a dist tag in `uname -r` (.fc41, .amzn2023). An agent
 * in a container reads the container's /etc/os-release, not the host's, so
 * an unambiguous kernel answer wins over it. el* kernels do not say which
 * rebuild (CentOS, Rocky, Alma, RHEL) they are: os-release decides.
 */
export function distroFromKernel(release: string, unameV: string): string | undefined {
  if (/^#[0-9]+(~[0-9.]+)?-Ubuntu\b/.test(unameV)) return 'ubuntu';
  if (/\bDebian\b/.test(unameV) && !/\.(el|fc|amzn)[0-9]/.test(release)) return 'debian';
  if (/\.fc[0-9]+\./.test(release)) return 'fedora';
  if (/\.amzn(2|2023)\./.test(release)) return 'amzn';
  return undefined;
}

/** os-release first, unless the kernel itself names another distro. */
export function hostDistro(osRelease: Record<string, string>, release: string, unameV: string): string {
  const fromOs = distroFromOsRelease(osRelease);
  return distroFromKernel(release, unameV) ?? fromOs;
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

/**
 * Reads <root>/etc/os-release (then <root>/usr/lib/os-release); the root is
 * KBUILD_HOST_ROOT when an agent mounts the host's filesystem (e.g. /host).
 */
async function readOsRelease(root: string): Promise<string> {
  for (const path of ['etc/os-release', 'usr/lib/os-release']) {
    const text = await readFile(join(root, path), 'utf8').catch(() => undefined);
    if (text !== undefined) return text;
  }
  return '';
}

export async function detectHost(overrides: Partial<HostIdentity> = {}, env: NodeJS.ProcessEnv = process.env): Promise<HostIdentity> {
  const osRelease = await readOsRelease(env['KBUILD_HOST_ROOT'] ?? '/');
  const arch = overrides.arch ?? normalizeArch(nodeArch());
  if (arch === undefined) throw new Error(`unsupported machine architecture ${nodeArch()}`);
  const hasBtf =
    overrides.hasBtf ??
    (await access(HOST_BTF_PATH).then(
      () => true,
      () => false,
    ));
  const release = overrides.release ?? nodeRelease();
  const version = overrides.version ?? nodeVersion();
  return {
    distro: overrides.distro ?? hostDistro(parseOsRelease(osRelease), release, version),
    release,
    version,
    arch,
    hasBtf,
  };
}
