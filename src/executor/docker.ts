import type Docker from 'dockerode';
import { chown } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { KbuildError } from '../errors.js';
import { ExecError, type ExecResult } from '../exec/exec.js';
import type { Logger } from '../log.js';
import { connectDocker } from './docker-engine.js';
import { findBuilderImage, type BuilderImage } from '../images/builder-image.js';
import { CONTAINER_ROOT, mapStep } from './docker-mounts.js';
import { ownerLabels, removeOrphans } from './docker-orphans.js';
import type { BuildStep, Executor } from './types.js';

/**
 * Runs build steps in a distro's builder image, one container per step:
 * no network, the step's folders only (inputs read-only, one writable
 * output), read-only root, no capabilities, a non-root user, memory/pids
 * limits and a wall-clock limit. The container is removed in `finally`,
 * whatever happened; `close()` removes any still running (worker stopping).
 */

export interface DockerLimits {
  readonly memoryBytes: number;
  readonly pids: number;
}

export const DEFAULT_LIMITS: DockerLimits = { memoryBytes: 2 * 1024 ** 3, pids: 256 };
/** The image's `builder` user; used when the worker runs as root. */
export const BUILD_UID = 10001;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const OUTPUT_GRACE_MS = 5_000;

interface Shared {
  readonly docker: Docker;
  readonly image: BuilderImage;
  readonly limits: DockerLimits;
  readonly live: Set<Docker.Container>;
  toolchain?: Promise<string> | undefined;
}

export class DockerExecutor implements Executor {
  readonly name = 'docker';

  private constructor(
    private readonly shared: Shared,
    private readonly log: Logger | undefined,
  ) {}

  /** Connects (failing fast with a clear error) and finds the distro's builder image. */
  static async open(distro: string, options: { limits?: DockerLimits; log?: Logger; docker?: Docker } = {}): Promise<DockerExecutor> {
    const docker = options.docker ?? (await connectDocker());
    const image = await findBuilderImage(docker, distro);
    const orphans = await removeOrphans(docker);
    if (orphans.length > 0) options.log?.warn({ containers: orphans.map((id) => id.slice(0, 12)) }, 'removed build containers of a worker that died');
    return new DockerExecutor({ docker, image, limits: options.limits ?? DEFAULT_LIMITS, live: new Set() }, options.log);
  }

  get image(): BuilderImage {
    return this.shared.image;
  }

  /** The same engine, image and containers, with build output going to `log` (one job's log). */
  withLog(log: Logger): DockerExecutor {
    return new DockerExecutor(this.shared, log);
  }

  async run(step: BuildStep, signal?: AbortSignal): Promise<ExecResult> {
    const mapped = mapStep(step);
    const [file] = mapped.argv;
    if (file === undefined) throw new KbuildError('E_EXECUTOR', 'empty build step');
    signal?.throwIfAborted();
    const user = await this.prepareUser(step.writable);
    const { docker, image, limits, live } = this.shared;
    const container = await docker.createContainer({
      Image: image.id,
      Cmd: mapped.argv,
      WorkingDir: mapped.cwd,
      User: user,
      Env: ['LC_ALL=C', 'SOURCE_DATE_EPOCH=0', 'HOME=/tmp'],
      NetworkDisabled: true,
      Labels: ownerLabels(),
      HostConfig: {
        NetworkMode: 'none',
        Mounts: mapped.mounts.map((m) => ({ Type: 'bind' as const, Source: m.host, Target: m.container, ReadOnly: m.readOnly })),
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Memory: limits.memoryBytes,
        MemorySwap: limits.memoryBytes,
        PidsLimit: limits.pids,
      },
    });
    live.add(container);
    const command = step.argv.join(' ');
    const timeoutMs = step.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let timedOut = false;
    let aborted = false;
    const kill = (): void => void container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      aborted = true;
      kill();
    };
    try {
      const output = await this.attach(container, file);
      await container.start();
      // Armed once the container runs, so a kill can never land before the start.
      timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted === true) onAbort();
      const status = await waitFor(container, output.done);
      const stdout = output.stdout();
      const stderr = output.stderr();
      if (aborted) signal?.throwIfAborted();
      if (timedOut || status.StatusCode !== 0) {
        throw new ExecError({
          command,
          stdout,
          stderr,
          exitCode: timedOut ? undefined : status.StatusCode,
          signal: timedOut ? 'SIGKILL' : undefined,
          timedOut,
        });
      }
      return { stdout, stderr };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      await removeContainer(container);
      live.delete(container);
    }
  }

  toolchainId(): Promise<string> {
    const shared = this.shared;
    shared.toolchain ??= (async () => {
      const step = (argv: string[]): BuildStep => ({ argv, cwd: CONTAINER_ROOT, readOnly: [], writable: '/nonexistent' });
      const clang = await this.runBare(step(['clang', '--version']));
      const llc = await this.runBare(step(['llc', '--version']));
      const llcLine = llc.split('\n').find((l) => /version/i.test(l))?.trim() ?? '';
      return `${clang.split('\n')[0]?.trim() ?? ''} | ${llcLine} | image ${shared.image.ref} ${shared.image.id.slice(0, 19)}`;
    })();
    shared.toolchain.catch(() => (shared.toolchain = undefined));
    return shared.toolchain;
  }

  /** Removes every container this executor still has running; safe to call twice. */
  async close(): Promise<void> {
    await Promise.all([...this.shared.live].map((c) => removeContainer(c)));
    this.shared.live.clear();
  }

  /** A query with no folders at all (toolchain versions). */
  private async runBare(step: BuildStep): Promise<string> {
    const { docker, image } = this.shared;
    const container = await docker.createContainer({
      Image: image.id,
      Cmd: [...step.argv],
      NetworkDisabled: true,
      Labels: ownerLabels(),
      HostConfig: { NetworkMode: 'none', ReadonlyRootfs: true, CapDrop: ['ALL'], Memory: DEFAULT_LIMITS.memoryBytes, PidsLimit: 64 },
    });
    try {
      const output = await this.attach(container, step.argv[0] ?? '');
      await container.start();
      const status = await waitFor(container, output.done);
      if (status.StatusCode !== 0) {
        throw new ExecError({ command: step.argv.join(' '), stdout: output.stdout(), stderr: output.stderr(), exitCode: status.StatusCode, signal: undefined, timedOut: false });
      }
      return output.stdout();
    } finally {
      await removeContainer(container);
    }
  }

  /** Attached before start so no output is lost; each line also goes to the job's log. */
  private async attach(container: Docker.Container, tool: string) {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    // Whole lines only: a chunk may end in the middle of one.
    let partial = '';
    const logLines = (text: string): void => {
      for (const line of text.split('\n')) {
        if (line.trim() !== '') this.log?.info({ tool, container: container.id.slice(0, 12), line }, 'build output');
      }
    };
    // demuxStream only calls write(); plain sinks keep every byte in hand before the stream's end.
    const stdout = { write: (c: Buffer) => out.push(c) } as unknown as NodeJS.WritableStream;
    const stderr = {
      write: (c: Buffer) => {
        err.push(c);
        const text = partial + c.toString('utf8');
        const end = text.lastIndexOf('\n');
        partial = text.slice(end + 1);
        logLines(text.slice(0, end + 1));
      },
    } as unknown as NodeJS.WritableStream;
    this.shared.docker.modem.demuxStream(stream, stdout, stderr);
    const done = new Promise<void>((resolve) => {
      const finish = (): void => {
        logLines(partial);
        partial = '';
        resolve();
      };
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
    });
    return {
      done,
      stdout: () => Buffer.concat(out).toString('utf8'),
      stderr: () => Buffer.concat(err).toString('utf8'),
    };
  }

  /**
   * Root workers run builds as the image's user, which must own the one
   * writable folder; other workers run as themselves and own it already.
   */
  private async prepareUser(writable: string): Promise<string> {
    const uid = process.getuid?.() ?? BUILD_UID;
    if (uid !== 0) return `${uid}:${process.getgid?.() ?? uid}`;
    await chown(writable, BUILD_UID, BUILD_UID);
    return `${BUILD_UID}:${BUILD_UID}`;
  }
}

async function removeContainer(container: Docker.Container): Promise<void> {
  await container.remove({ force: true }).catch((err: { statusCode?: number }) => {
    // 404: already gone; 409: removal already in progress.
    if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
  });
}

/** The exit status, once the output has been read (or a few seconds after, should the attach stream never end). */
async function waitFor(container: Docker.Container, outputDone: Promise<void>): Promise<{ StatusCode: number }> {
  const status = (await container.wait()) as { StatusCode: number };
  const grace = new AbortController();
  await Promise.race([outputDone, sleep(OUTPUT_GRACE_MS, undefined, { signal: grace.signal }).catch(() => undefined)]);
  grace.abort();
  return status;
}
