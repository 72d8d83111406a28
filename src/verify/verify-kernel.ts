import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { builderFor } from '../../builders/registry.js';
import type { DistroBuilder, FetchedImage } from '../../builders/types.js';
import { KernelNotFoundError, KbuildError } from '../errors.js';
import { consoleTail, parseConsole, type GuestReport } from './console-parser.js';
import { cutExternalBtf } from './external-btf.js';
import { guestLoader, type GuestLoader } from './guest-loader.js';
import { mapLayout, PER_MAP_SECTIONS_NO_BTF, type MapLayout } from './legacy-maps.js';
import { buildInitramfs, type InitramfsCase } from './initramfs.js';
import { checkCase } from './manifest.js';
import { QEMU_SETUPS, qemuArgs, qemuAvailable } from './qemu-command.js';
import { bootQemu, type BootRun } from './qemu-process.js';
import type { ProgramReport, VerifyCase, VerifyCaseResult, VerifyKernelRequest, VerifyKernelResult } from './types.js';
import { verifyId } from './verify-id.js';
import { verifierSummary } from './verifier-log.js';
import { makeScratch } from '../util/scratch.js';

export { qemuAvailable } from './qemu-command.js';
export { VERIFY_ENGINE_VERSION, verifyId } from './verify-id.js';
export { guestLoader } from './guest-loader.js';

/** Knobs for tests and benches; production callers pass none. */
export interface EngineOptions {
  /** Default: the registered builder of the kernel's distro. */
  readonly builder?: DistroBuilder;
  /** The guest never finishes (tests of the time limit). */
  readonly hangGuest?: boolean;
  readonly onConsole?: (chunk: string) => void;
  /** The process group id of the QEMU run (tests check it is gone afterwards). */
  readonly onQemuStart?: (pid: number) => void;
}

const sha256File = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex');

/** Each case with what it needs to load and to be identified. */
interface Prepared {
  readonly verifyCase: VerifyCase;
  readonly btfFile?: string;
  readonly btfSha256?: string;
  readonly cutByEngine: boolean;
  /** Why the case cannot be loaded at all (it stays out of the guest). */
  readonly skip?: string;
  /** How the object declares its maps, which decides the guest loader: `legacy` (pre-1.0 libbpf), `per-map-sections` (gobpf's way), else libbpf 1.x. */
  readonly layout: MapLayout;
}

/** What a case's result detail says about the loader its map layout chose. */
const LAYOUT_NOTES: Readonly<Record<MapLayout, string>> = {
  btf: '',
  legacy: ' (legacy maps section: loaded with libbpf 0.3)',
  'per-map-sections': " (gobpf's per-map sections: loaded as gobpf's ELF loader does)",
};

function everyCase(request: VerifyKernelRequest, result: VerifyCaseResult['result'], detail: string, id: (c: VerifyCase) => string): VerifyCaseResult[] {
  return request.cases.map((c) => ({ case: c, result, detail, verifyId: id(c) }));
}

function notVerifiable(request: VerifyKernelRequest, started: number, detail: string): VerifyKernelResult {
  const id = (c: VerifyCase): string => verifyId({ objectSha256: c.objectSha256, mode: c.mode, imageSha256: '', guestLoaderSha256: '' });
  return { kernel: request.kernel, outcome: 'not-verifiable', seconds: (performance.now() - started) / 1000, results: everyCase(request, 'not-verifiable', detail, id) };
}

async function fetchImage(request: VerifyKernelRequest, builder: DistroBuilder): Promise<FetchedImage | string> {
  if (builder.supportsImages === false) return `the ${builder.distro} builder cannot fetch kernel images (yet)`;
  try {
    return await builder.fetchImage(request.kernel, {
      cacheDir: request.cacheDir,
      ...(request.mirror === undefined ? {} : { mirror: request.mirror }),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    });
  } catch (err) {
    if (err instanceof KernelNotFoundError || (err instanceof KbuildError && err.code === 'E_NOT_SUPPORTED')) return `no kernel image: ${err.message}`;
    throw err;
  }
}

async function prepare(request: VerifyKernelRequest, image: FetchedImage): Promise<Prepared[]> {
  const prepared: Prepared[] = [];
  for (const c of request.cases) {
    const layout = await mapLayout(c.objectFile);
    if (layout === 'per-map-sections' && c.mode === 'core-external-btf') prepared.push({ verifyCase: c, cutByEngine: false, layout, skip: PER_MAP_SECTIONS_NO_BTF });
    else if (c.mode !== 'core-external-btf') prepared.push({ verifyCase: c, cutByEngine: false, layout });
    else if (c.btfFile !== undefined) prepared.push({ verifyCase: c, btfFile: c.btfFile, btfSha256: c.btfSha256 ?? (await sha256File(c.btfFile)), cutByEngine: false, layout });
    else {
      try {
        const cut = await cutExternalBtf(request.cacheDir, image, request.kernel.arch, c.objectFile, c.objectSha256);
        prepared.push({ verifyCase: c, btfFile: cut.path, btfSha256: cut.sha256, cutByEngine: true, layout });
      } catch (err) {
        // No BTF in the image, or bpftool refuses the object: nothing to hand to libbpf.
        if (!(err instanceof KbuildError) || err.retryable) throw err;
        prepared.push({ verifyCase: c, cutByEngine: true, layout, skip: `no external BTF could be cut from the kernel image: ${err.message}` });
      }
    }
  }
  return prepared;
}

/** The program libbpf names in "prog 'x': failed to load" (the load stops at the first one). */
function failedToLoad(log: string, why: string | undefined): ProgramReport[] {
  const name = /prog '([^']{1,128})': failed to load/.exec(log)?.[1];
  return name === undefined ? [] : [{ name, result: 'failed', detail: why ?? 'the verifier rejected it' }];
}

function caseResult(p: Prepared, index: number, report: GuestReport, boot: BootRun, id: string, timeoutMs: number): VerifyCaseResult {
  const base = { case: p.verifyCase, verifyId: id, ...(p.btfSha256 === undefined ? {} : { btfSha256: p.btfSha256 }) };
  if (p.skip !== undefined) return { ...base, result: 'not-verifiable', detail: p.skip };
  const got = report.cases.get(index);
  const cutNote = `${p.cutByEngine ? ' (BTF cut from the kernel image by the engine)' : ''}${LAYOUT_NOTES[p.layout]}`;
  if (got !== undefined) {
    const why = got.result === 'failed' ? verifierSummary(got.log) : undefined;
    const programs = got.programs.length > 0 || got.result !== 'failed' ? got.programs : failedToLoad(got.log, why);
    return {
      ...base,
      result: got.result,
      detail: `${got.detail}${why === undefined ? '' : `: ${why}`}${cutNote}`,
      events: got.events,
      ...(programs.length === 0 ? {} : { programs }),
      ...(got.result === 'failed' && got.log !== '' ? { verifierLog: got.log } : {}),
    };
  }
  const qemu = `QEMU ${boot.signal ?? `exit ${boot.exitCode ?? '?'}`}`;
  // Neither the object nor the kernel is to blame for these: the emulator stopped the proof.
  if (boot.outcome === 'timeout') {
    const where = report.release === undefined ? 'the guest did not boot (no uname line)' : report.started.has(index) ? 'the guest was still running this case' : 'the guest did not reach this case';
    return { ...base, result: 'inconclusive', detail: `timed out after ${timeoutMs / 1000} s: ${where}` };
  }
  if (report.done) return { ...base, result: 'inconclusive', detail: 'the guest ran this case but the console lost its result line' };
  if (report.started.has(index)) {
    // The object's programs ran and the kernel went down: that is the object's doing.
    return { ...base, result: 'failed', detail: `the guest died while running this case (kernel panic or reset; ${qemu}; see consoleTail)` };
  }
  const where = report.release === undefined ? 'the kernel did not boot to the guest loader' : 'the guest stopped before reporting this case';
  return { ...base, result: 'inconclusive', detail: `${where} (${qemu}; see consoleTail)` };
}

export async function verifyKernel(request: VerifyKernelRequest, options: EngineOptions = {}): Promise<VerifyKernelResult> {
  const started = performance.now();
  request.cases.forEach(checkCase);
  const { arch } = request.kernel;
  const available = await qemuAvailable(arch);
  if (available !== true) return notVerifiable(request, started, available);
  const builder = options.builder ?? builderFor(request.kernel.distro);
  if (builder === undefined) return notVerifiable(request, started, `no builder for distro ${request.kernel.distro}`);
  const image = await fetchImage(request, builder);
  if (typeof image === 'string') return notVerifiable(request, started, image);
  request.signal?.throwIfAborted();

  const loaderOptions = {
    cacheDir: request.cacheDir,
    ...(request.mirror === undefined ? {} : { mirror: request.mirror }),
    ...(request.signal === undefined ? {} : { signal: request.signal }),
  };
  const loader: GuestLoader = await guestLoader(arch, loaderOptions);
  const prepared = await prepare(request, image);
  const legacyLoader = prepared.some((p) => p.layout === 'legacy' && p.skip === undefined) ? await guestLoader(arch, loaderOptions, 'legacy') : undefined;
  const ids = prepared.map((p) =>
    verifyId({
      objectSha256: p.verifyCase.objectSha256,
      mode: p.verifyCase.mode,
      ...(p.btfSha256 === undefined ? {} : { btfSha256: p.btfSha256 }),
      imageSha256: image.package.sha256,
      guestLoaderSha256: p.layout === 'legacy' && legacyLoader !== undefined ? legacyLoader.sha256 : loader.sha256,
    }),
  );

  if (prepared.length > 0 && prepared.every((p) => p.skip !== undefined)) {
    // Nothing left to load: no boot.
    const results = prepared.map((p, index) => ({ case: p.verifyCase, verifyId: ids[index] ?? '', result: 'not-verifiable' as const, detail: p.skip ?? '' }));
    return { kernel: request.kernel, outcome: 'not-verifiable', seconds: (performance.now() - started) / 1000, results };
  }

  const work = await makeScratch('kbuild-verify-');
  try {
    const initramfs = join(work, 'initramfs.cpio');
    const cases: InitramfsCase[] = prepared.flatMap((p, index) =>
      p.skip !== undefined ? [] : [{ index, verifyCase: p.verifyCase, ...(p.btfFile === undefined ? {} : { btfFile: p.btfFile }), ...(p.layout === 'legacy' ? { legacy: true } : {}), ...(p.layout === 'per-map-sections' ? { gobpf: true } : {}) }],
    );
    // The limit is the boot's: fetching the image and building the guest loader the first time do not count.
    const limit = request.timeoutMs;
    await buildInitramfs(initramfs, loader.path, cases, { caseTimeoutSeconds: limit / 1000, ...(options.hangGuest === true ? { hang: true } : {}) }, legacyLoader?.path);
    request.signal?.throwIfAborted();
    const boot = await bootQemu(QEMU_SETUPS[arch].binary, qemuArgs(arch, { kernel: image.path, initramfs }), {
      timeoutMs: limit,
      // Room for every case's whole log (up to 1 MiB, base64 on the wire) besides the kernel's own lines.
      maxConsoleBytes: (8 + 2 * cases.length) * 1024 * 1024,
      ...(request.signal === undefined ? {} : { signal: request.signal }),
      ...(options.onConsole === undefined ? {} : { onConsole: options.onConsole }),
      ...(options.onQemuStart === undefined ? {} : { onStart: options.onQemuStart }),
    });
    if (boot.outcome === 'aborted') request.signal?.throwIfAborted();
    const report = parseConsole(boot.console);
    const outcome: VerifyKernelResult['outcome'] = report.done ? 'completed' : boot.outcome === 'timeout' ? 'timeout' : 'boot-failed';
    const results = prepared.map((p, index) => caseResult(p, index, report, boot, ids[index] ?? '', request.timeoutMs));
    return {
      kernel: request.kernel,
      outcome,
      ...(report.release === undefined ? {} : { bootedRelease: report.release }),
      seconds: (performance.now() - started) / 1000,
      results,
      consoleTail: consoleTail(boot.console),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
