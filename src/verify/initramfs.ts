import { readFile, writeFile } from 'node:fs/promises';
import { writeCpio, type CpioMember } from './cpio-writer.js';
import { writeManifest, type ManifestCase, type ManifestOptions } from './manifest.js';
import type { VerifyCase } from './types.js';

/**
 * The initramfs of one boot: /init (the guest loader), /manifest, and each
 * case's object (and external BTF) under /cases. /dev/console is there
 * before devtmpfs is mounted, so init has its stdout from the start.
 */

export interface InitramfsCase {
  /** How the guest names the case in its results. */
  readonly index: number;
  readonly verifyCase: VerifyCase;
  /** core-external-btf: the BTF file to hand to libbpf (given or cut by the engine). */
  readonly btfFile?: string;
  /** Loaded by /init-legacy (needs `legacyLoader`). */
  readonly legacy?: boolean;
  /** Maps in gobpf's per-map sections: the guest loads it as gobpf does. */
  readonly gobpf?: boolean;
}

export async function buildInitramfs(out: string, guestLoader: string, cases: readonly InitramfsCase[], options: ManifestOptions, legacyLoader?: string): Promise<void> {
  const members: CpioMember[] = [
    { kind: 'dir', name: 'dev' },
    { kind: 'char', name: 'dev/console', major: 5, minor: 1 },
    { kind: 'dir', name: 'proc' },
    { kind: 'dir', name: 'sys' },
    { kind: 'dir', name: 'cases' },
    { kind: 'file', name: 'init', data: await readFile(guestLoader), mode: 0o755 },
  ];
  if (legacyLoader !== undefined) members.push({ kind: 'file', name: 'init-legacy', data: await readFile(legacyLoader), mode: 0o755 });
  const manifest: ManifestCase[] = [];
  for (const c of cases) {
    const { index } = c;
    const object = `/cases/${index}.o`;
    members.push({ kind: 'file', name: object, data: await readFile(c.verifyCase.objectFile) });
    let btf: string | undefined;
    if (c.verifyCase.mode === 'core-external-btf' && c.btfFile !== undefined) {
      btf = `/cases/${index}.btf`;
      members.push({ kind: 'file', name: btf, data: await readFile(c.btfFile) });
    }
    manifest.push({ index, verifyCase: c.verifyCase, object, ...(btf === undefined ? {} : { btf }), ...(c.legacy === true ? { legacy: true } : {}), ...(c.gobpf === true ? { gobpf: true } : {}) });
  }
  members.push({ kind: 'file', name: 'manifest', data: Buffer.from(writeManifest(manifest, options)) });
  await writeFile(out, writeCpio(members));
}
