import { copyFile, writeFile } from 'node:fs/promises';
import { builderFor } from '../../../builders/registry.js';
import { cacheRoot } from '../../cache/cache-dir.js';
import { ConfigError } from '../../errors.js';
import { extractBtfFromImage } from '../../btf/extract-image.js';
import { obtainFullBtf } from '../../btf/full-btf.js';
import { checkMinimized, minimizeBtf } from '../../btf/minimize.js';
import { BTF_SOURCES, type BtfSourceName } from '../../btf/source-names.js';
import { ARCHES, type Arch, type KernelIdentity } from '../../kernel/identity.js';
import { releaseProblem } from '../../kernel/release.js';
import { startCommandProgress } from '../../progress/command-progress.js';

/** `kbuild btf …`: the external-BTF steps alone, for users who only want BTFs. */

function kernelOf(opts: { distro?: string; release?: string; arch?: string }): KernelIdentity {
  const arch = opts.arch as Arch;
  if (!ARCHES.includes(arch)) throw new ConfigError(`--arch: expected one of ${ARCHES.join(', ')}`);
  const release = opts.release ?? '';
  const problem = releaseProblem(release);
  if (problem !== undefined) throw new ConfigError(`--release ${JSON.stringify(release)} ${problem}`);
  return { distro: opts.distro ?? 'debian', release, arch };
}

function builderOf(distro: string) {
  const builder = builderFor(distro);
  if (builder === undefined) throw new ConfigError(`--distro: no builder for "${distro}"`);
  return builder;
}

/** Runs `work` with download progress on stderr (bars on a terminal, lines otherwise). */
async function withProgress<T>(work: (note: (line: string) => void) => Promise<T>): Promise<T> {
  const progress = startCommandProgress();
  try {
    return await work((line) => progress.note(line));
  } finally {
    progress.close();
  }
}

export async function btfExtractCommand(opts: { image?: string; distro?: string; release?: string; arch?: string; out: string; json?: boolean }): Promise<number> {
  let image = opts.image;
  const arch = opts.arch as Arch;
  if (!ARCHES.includes(arch)) throw new ConfigError(`--arch: expected one of ${ARCHES.join(', ')}`);
  const btf = await withProgress(async (note) => {
    if (image === undefined) {
      const kernel = kernelOf(opts);
      note(`fetching the ${kernel.distro} ${kernel.release} ${kernel.arch} kernel image`);
      image = (await builderOf(kernel.distro).fetchImage(kernel, { cacheDir: cacheRoot() })).path;
    }
    note(`extracting BTF from ${image}`);
    return extractBtfFromImage(image, arch);
  });
  await writeFile(opts.out, btf);
  if (opts.json === true) process.stdout.write(`${JSON.stringify({ out: opts.out, size: btf.length, image }, null, 2)}\n`);
  else process.stdout.write(`${opts.out}: ${btf.length} bytes of BTF from ${image}\n`);
  return 0;
}

export async function btfGenerateCommand(opts: {
  distro?: string; release?: string; arch?: string; sources?: string; archive?: string; distroVersion?: string; out: string; json?: boolean;
}): Promise<number> {
  const kernel = kernelOf(opts);
  const sources = (opts.sources ?? BTF_SOURCES.join(',')).split(',').map((s) => s.trim());
  const bad = sources.find((s) => !(BTF_SOURCES as readonly string[]).includes(s));
  if (bad !== undefined) throw new ConfigError(`--sources: unknown source "${bad}", expected ${BTF_SOURCES.join(', ')}`);
  const builder = builderOf(kernel.distro);
  // The dbg source downloads a ~280 MB to 1 GB package: its byte progress shows while pahole waits.
  const full = await withProgress(async (note) => {
    note(`full BTF of ${kernel.distro} ${kernel.release} ${kernel.arch} from the first of: ${sources.join(', ')}${sources.includes('dbg') ? ' (dbg: download, then pahole -J for a minute or two)' : ''}`);
    const started = Date.now();
    const result = await obtainFullBtf(kernel, {
      builder,
      context: { cacheDir: cacheRoot() },
      sources: sources as BtfSourceName[],
      ...(opts.archive === undefined ? {} : { archive: opts.archive }),
      ...(opts.distroVersion === undefined ? {} : { distroVersion: opts.distroVersion }),
    });
    note(`full BTF from ${result.source} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return result;
  });
  await copyFile(full.path, opts.out);
  const { path: _cached, ...summary } = full;
  if (opts.json === true) process.stdout.write(`${JSON.stringify({ out: opts.out, ...summary }, null, 2)}\n`);
  else {
    for (const s of full.skipped) process.stderr.write(`kbuild: skipped ${s}\n`);
    process.stdout.write(`${opts.out}: ${full.size} bytes of BTF from ${full.source}${full.package === undefined ? '' : ` (${full.package.name} ${full.package.version})`}, sha256 ${full.sha256}\n`);
  }
  return 0;
}

export async function btfMinimizeCommand(objects: readonly string[], opts: { btf: string; out: string; json?: boolean }): Promise<number> {
  if (objects.length === 0) throw new ConfigError('name at least one CO-RE object');
  const check = await withProgress(async (note) => {
    note(`minimizing ${opts.btf} for ${objects.length} object${objects.length === 1 ? '' : 's'}`);
    await minimizeBtf(opts.btf, objects, opts.out);
    note('checking CO-RE relocations against the full and the minimized BTF');
    return checkMinimized(opts.btf, opts.out, objects);
  });
  if (opts.json === true) process.stdout.write(`${JSON.stringify({ out: opts.out, relocationCheck: check }, null, 2)}\n`);
  else {
    process.stdout.write(`${opts.out}: minimized; relocation check ${check.result} (${check.relocations} relocations)\n`);
    if (check.detail !== undefined) process.stdout.write(`  ${check.detail}\n`);
  }
  return check.result === 'ok' ? 0 : 1;
}
