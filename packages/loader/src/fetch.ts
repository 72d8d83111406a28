import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegrityError, KbuildError, LoaderErrorCode } from './errors.js';
import { writeFileAtomically } from './atomic-file.js';
import { detectHost, type HostIdentity } from './host.js';
import { SizeLimitError, type IndexSource, type SourceOptions } from './index-source.js';
import { describePick, type PickResult } from './pick.js';
import { pickFrom, withPickIndex } from './pick-index.js';
import type { PickIndex } from './read-shards.js';
import { requireTrust, sha256Hex, type IndexTrustOptions, type IndexTrustResult } from './signature.js';

/** `publicKey` or `allowUnsigned: true` is required: without either, fetching fails with E_NO_PUBLIC_KEY. */
export interface FetchOptions extends SourceOptions, IndexTrustOptions {
  /** index.json as a path, file://, http(s):// or s3:// URL (or the folder/prefix holding it). */
  readonly index: string;
  /** Download cache: files are named by their sha256, so a second start finds them. */
  readonly dest: string;
  /** Probes to fetch; default: every probe the index lists. */
  readonly probes?: readonly string[];
  /** Overrides for host detection (tests, or fetching for another machine). */
  readonly host?: Partial<HostIdentity>;
  /** Take the CO-RE object (and its external BTF when the kernel has none) over an exact per-kernel one. */
  readonly preferCore?: boolean;
  /** Only artifacts with an ok QEMU verification for the host's kernel in the mode they would run in. */
  readonly requireVerified?: boolean;
}

export interface FetchedFile {
  readonly key: string;
  /** Absolute path in the cache, verified against the index's size and sha256. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** False when the cache already held it: nothing was downloaded. */
  readonly downloaded: boolean;
}

export interface FetchedProbe {
  readonly pick: PickResult;
  /** The BPF object for libbpf; undefined when nothing in the index runs on this host. */
  readonly object?: FetchedFile;
  /** External BTF for libbpf's btf_custom_path, when the host kernel has no BTF of its own. */
  readonly btf?: FetchedFile;
}

export interface FetchResult {
  readonly index: string;
  readonly trust: IndexTrustResult;
  /** `shards`: the store's signed manifest and this kernel's shard were read; `index`: the whole index.json. */
  readonly via: PickIndex['via'];
  /** The index files read (manifest, signatures, trie nodes, shard, or index.json) and their sizes. */
  readonly indexReads: PickIndex['reads'];
  readonly host: HostIdentity;
  readonly probes: readonly FetchedProbe[];
}

/**
 * The agent's start-up: read and verify the index, pick for this host,
 * download only the chosen object (and its external BTF), verify both against
 * the signed index, and keep them in a content-addressed cache. Nothing is
 * written under its final name before it is verified.
 */
export async function fetchArtifacts(options: FetchOptions): Promise<FetchResult> {
  requireTrust(options, options.index);
  const host = await detectHost(options.host);
  return withPickIndex(options.index, host, options, async (view, source) => {
    const { trust, location } = view;
    const probes = options.probes ?? view.probes;
    if (probes.length === 0) throw new KbuildError(LoaderErrorCode.EMPTY_INDEX, `${location} lists no artifacts`, { exitCode: 3 });
    // Every name checked before anything is downloaded: a typo is E_UNKNOWN_PROBE, not an unsupported kernel.
    const results = probes.map((probe) => pickFrom(view, host, probe, { preferCore: options.preferCore === true, requireVerified: options.requireVerified === true }));
    const fetched: FetchedProbe[] = [];
    for (const result of results) {
      const choice = result.choice;
      if (choice === undefined) {
        fetched.push({ pick: result });
        continue;
      }
      const object = await fetchVerified(source, options.dest, choice.artifact, '.o');
      const btf = choice.btf === undefined ? undefined : await fetchVerified(source, options.dest, choice.btf, '.btf');
      fetched.push({ pick: result, object, ...(btf === undefined ? {} : { btf }) });
    }
    return { index: location, trust, via: view.via, indexReads: view.reads, host, probes: fetched };
  });
}

/** One probe; throws E_UNSUPPORTED_KERNEL, with every rejection, when nothing runs on this host. */
export async function fetchArtifact(options: Omit<FetchOptions, 'probes'> & { readonly probe: string }): Promise<FetchedProbe & { object: FetchedFile }> {
  const result = await fetchArtifacts({ ...options, probes: [options.probe] });
  const fetched = result.probes[0];
  if (fetched?.object === undefined) {
    throw new KbuildError(LoaderErrorCode.UNSUPPORTED_KERNEL, fetched === undefined ? `no probe ${options.probe}` : describePick(fetched.pick), { exitCode: 3 });
  }
  return { ...fetched, object: fetched.object };
}

interface Expected {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** Cache hit when a file of that name has the expected bytes; else download, verify, then rename into place. */
async function fetchVerified(source: IndexSource, dest: string, expected: Expected, suffix: string): Promise<FetchedFile> {
  const path = join(dest, `${expected.sha256}${suffix}`);
  const base = { key: expected.path, path, size: expected.size, sha256: expected.sha256 };
  const cached = await readFile(path).catch(() => undefined);
  if (cached !== undefined && cached.length === expected.size && sha256Hex(cached) === expected.sha256) return { ...base, downloaded: false };
  const what = `${source.location}/${expected.path}`;
  const bytes = await source.read(expected.path, expected.size).catch((err: unknown) => {
    if (err instanceof SizeLimitError) throw new IntegrityError(LoaderErrorCode.ARTIFACT_SIZE, `${what}: larger than the ${expected.size} bytes the index lists`);
    throw err;
  });
  if (bytes === undefined) throw new KbuildError(LoaderErrorCode.ARTIFACT_MISSING, `${what} is listed in the index but does not exist`);
  if (bytes.length !== expected.size) {
    throw new IntegrityError(LoaderErrorCode.ARTIFACT_SIZE, `${what}: the index lists ${expected.size} bytes, received ${bytes.length} (truncated?)`);
  }
  const actual = sha256Hex(bytes);
  if (actual !== expected.sha256) throw new IntegrityError(LoaderErrorCode.ARTIFACT_SHA256, `${what}: sha256 ${actual}, the index lists ${expected.sha256}`);
  await writeFileAtomically(path, bytes);
  return { ...base, downloaded: true };
}
