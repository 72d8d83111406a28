import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuilderContext, DistroBuilder, PackageRef } from '../../builders/types.js';
import { errorMessage, KbuildError } from '../errors.js';
import type { KernelIdentity } from '../kernel/identity.js';
import { archiveBtf } from './archive-btf.js';
import { checkBtf } from './btf-header.js';
import { dbgBtf } from './dbg-btf.js';
import { IMAGE_BTF_FILE, imageBtfEntry } from './image-btf.js';
import { BTF_SOURCES, type BtfSourceName } from './source-names.js';

export interface FullBtfOptions {
  readonly builder: DistroBuilder;
  readonly context: BuilderContext;
  /** Tried in this order; the first that yields valid BTF wins. */
  readonly sources?: readonly BtfSourceName[];
  readonly archive?: string;
  readonly distroVersion?: string;
}

export interface FullBtf {
  /** A file in the cache: never modify it. */
  readonly path: string;
  readonly source: BtfSourceName;
  readonly size: number;
  readonly sha256: string;
  /** The distro package it came from (image or debug package); absent for archives. */
  readonly package?: PackageRef;
  /** Where an archive BTF was read from. */
  readonly location?: string;
  readonly downloaded: boolean;
  /** Why each earlier source gave nothing. */
  readonly skipped: readonly string[];
}

/**
 * The kernel's full BTF from the first source that has it. Each source
 * caches its result content-addressed by its input (image or debug package
 * sha256, archive file sha256), so a second run reads one file.
 */
export async function obtainFullBtf(kernel: KernelIdentity, options: FullBtfOptions): Promise<FullBtf> {
  const skipped: string[] = [];
  for (const source of options.sources ?? BTF_SOURCES) {
    if (source === 'archive' && options.archive === undefined) {
      skipped.push('archive: no btf.archive configured');
      continue;
    }
    try {
      const found = await fromSource(source, kernel, options);
      const bytes = await readFile(found.path);
      const check = checkBtf(bytes);
      if (check.kind !== 'valid') throw new KbuildError('E_BTF_SOURCE', `not valid BTF: ${check.reason}`);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      return { ...found, source, size: bytes.length, sha256, skipped };
    } catch (err) {
      if (options.context.signal?.aborted === true) throw err;
      skipped.push(`${source}: ${errorMessage(err)}`);
    }
  }
  throw new KbuildError(
    'E_BTF_SOURCE',
    `no BTF source has ${kernel.distro} ${kernel.release} ${kernel.arch}:\n  ${skipped.join('\n  ')}`,
    { suggestions: ['Point btf.archive in kernels.yaml at a BTFHub-style archive that has this kernel'] },
  );
}

type Found = { path: string; package?: PackageRef; location?: string; downloaded: boolean };

async function fromSource(source: BtfSourceName, kernel: KernelIdentity, options: FullBtfOptions): Promise<Found> {
  const { builder, context } = options;
  switch (source) {
    case 'image': {
      const image = await builder.fetchImage(kernel, context);
      const dir = await imageBtfEntry(context.cacheDir, image, kernel.arch);
      return { path: join(dir, IMAGE_BTF_FILE), package: image.package, downloaded: !image.fromCache };
    }
    case 'dbg': {
      const { path, debug } = await dbgBtf(builder, kernel, context);
      return { path, package: debug.package, downloaded: !debug.fromCache };
    }
    case 'archive': {
      const base = options.archive ?? '';
      const found = await archiveBtf(base, kernel, {
        cacheDir: context.cacheDir,
        ...(options.distroVersion === undefined ? {} : { distroVersion: options.distroVersion }),
        ...(context.signal === undefined ? {} : { http: { signal: context.signal } }),
      });
      return { path: found.path, location: found.location, downloaded: false };
    }
  }
}
