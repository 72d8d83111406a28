import { Command, CommanderError, Option } from 'commander';
import { KbuildError } from '../errors.js';
import { setLogFormat, type LogFormat } from '../log.js';
import { VERSION } from '../version.js';
import { defaultJobsInFlight } from '../util/cpu-slots.js';
import { withFarmOptions, withHostOptions } from './shared-options.js';
import { s3SettingsFrom, withS3Options } from './s3-options.js';
import { storeFrom, withIndexOptions, withStoreOption } from './store-option.js';
import type { SyncOptions } from './commands/sync.js';
import type { DashboardCommandOptions } from './commands/dashboard.js';

/**
 * Commands are imported lazily inside their actions so `kbuild pick` on an
 * agent host loads nothing of the farm. User errors become a message and an
 * exit code; anything else is reported as a bug.
 */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('kbuild')
    .description('Build farm for eBPF artifacts: per-kernel and CO-RE objects, indexed and picked at load time')
    .version(VERSION)
    .addOption(new Option('--log-format <format>', 'log lines on stderr as sentences, or as JSON lines (pino) for a log collector').choices(['text', 'json']).default('text').env('KBUILD_LOG_FORMAT'))
    .exitOverride()
    // A usage error is one line and a hint (handleError), not a help screen.
    .configureOutput({ outputError: () => undefined })
    .hook('preAction', (command) => setLogFormat(command.opts<{ logFormat: LogFormat }>().logFormat));

  withS3Options(
    withStoreOption(program.command('build'), { flags: '-o, --out <dir|s3://bucket/prefix>', name: 'out' }, 'the store: a folder, file:// or s3:// URL (default: out)')
      .description('Build every probe for every kernel of a kernels file on this machine (no Redis)')
      .requiredOption('-k, --kernels <file>', 'kernels file', 'kernels.yaml')
      .addOption(new Option('-c, --concurrency <n>', 'jobs in flight; at most one per core ($KBUILD_CPU_SLOTS) extracts or compiles at once').argParser(positiveInt).default(defaultJobsInFlight()))
      .addOption(new Option('--signing-key <file>', 'ed25519 private key (kbuild keygen) that signs index.json').env('KBUILD_SIGNING_KEY'))
      .addOption(new Option('--redis <url>', 'Redis that serializes index updates of a shared S3 store').env('KBUILD_REDIS_URL'))
      .option('--unlocked', 'publish to an S3 store without a Redis lock (only when nothing else publishes to it)')
      .option('--json', 'print a machine-readable summary on stdout')
      .addOption(new Option('--executor <kind>', 'run every build locally or in the distro\'s builder image (overrides kernels.yaml)').choices(['local', 'docker']))
      .option('--no-verify', 'do not boot the kernels in QEMU to load what was built')
      .addOption(new Option('--verify-concurrency <n>', 'kernels booted at once (default: the machine\'s cores)').argParser(positiveInt))
      .addOption(new Option('--verify-timeout <seconds>', 'time limit of one kernel\'s boot; QEMU is killed past it').argParser(positiveInt).default(300))
      .addOption(new Option('--core-check <scope>', 'before publishing, predict offline from each kernel\'s BTF whether the CO-RE objects load there (kbuild check): on the build set\'s kernels, or on every kernel the distros\' archives list for the arches built').choices(['kernels', 'archive'])),
  ).action(async (opts: { kernels: string; store?: string; out?: string; concurrency: number; json?: boolean; signingKey?: string; redis?: string; unlocked?: boolean; executor?: 'local' | 'docker'; verify: boolean; verifyConcurrency?: number; verifyTimeout: number; coreCheck?: 'kernels' | 'archive' }) => {
    const { buildCommand } = await import('./commands/build.js');
    exitCode = await buildCommand({ ...opts, out: storeFrom(opts, 'out', 'out'), s3: s3SettingsFrom(opts) });
  });

  withS3Options(
    program
      .command('verify')
      .description("Boot each kernel of a store's index in QEMU, load its artifacts (non-CO-RE, CO-RE with the kernel's and with external BTF) and record the results in the index")
      .requiredOption('-s, --store <dir|s3://bucket/prefix>', 'the store whose index.json lists what to verify')
      .option('-k, --kernels <file>', 'kernels file: which kernels to boot and each probe\'s check (default: every kernel the index lists, default checks)')
      .option('--kernel <release...>', 'only these kernel releases')
      .addOption(new Option('--timeout <seconds>', 'time limit of one kernel\'s boot; QEMU is killed past it').argParser(positiveInt).default(300))
      .addOption(new Option('-c, --concurrency <n>', 'kernels booted at once (default: the machine\'s cores)').argParser(positiveInt))
      .addOption(new Option('--signing-key <file>', 'ed25519 private key (kbuild keygen) that signs index.json').env('KBUILD_SIGNING_KEY'))
      .addOption(new Option('--redis <url>', 'Redis that serializes index updates of a shared S3 store').env('KBUILD_REDIS_URL'))
      .option('--unlocked', 'publish to an S3 store without a Redis lock (only when nothing else publishes to it)')
      .option('--json', 'print the results per kernel and case as JSON'),
  ).action(async (opts: { store: string; kernels?: string; kernel?: string[]; timeout: number; concurrency?: number; signingKey?: string; redis?: string; unlocked?: boolean; json?: boolean }) => {
    const { verifyCommand } = await import('./commands/verify.js');
    exitCode = await verifyCommand({ ...opts, s3: s3SettingsFrom(opts) });
  });

  withS3Options(
    program
      .command('check')
      .description("Predict offline whether each CO-RE object of a store's index loads on each kernel, from the kernel's full BTF (no boot); record compatible / incompatible / unknown in the index and compare with QEMU")
      .requiredOption('-s, --store <dir|s3://bucket/prefix>', 'the store whose index.json lists the CO-RE objects')
      .option('-k, --kernels <file>', 'kernels file: the kernels to check and btf.sources / btf.archive (default: every kernel the index lists)')
      .option('--crawl <distro>', 'check every kernel the distro\'s archive offers (as `kbuild crawl` lists them)')
      .addOption(new Option('--arch <arch...>', 'arches to crawl').choices(['x86_64', 'arm64']))
      .option('--release-filter <regex>', 'with --crawl: keep only releases matching this regular expression')
      .addOption(new Option('-c, --concurrency <n>', 'kernels worked on at once').argParser(positiveInt).default(2))
      .addOption(new Option('--signing-key <file>', 'ed25519 private key (kbuild keygen) that signs index.json').env('KBUILD_SIGNING_KEY'))
      .addOption(new Option('--redis <url>', 'Redis that serializes index updates of a shared S3 store').env('KBUILD_REDIS_URL'))
      .option('--unlocked', 'publish to an S3 store without a Redis lock (only when nothing else publishes to it)')
      .option('--json', 'print every result and the comparison with QEMU as JSON'),
  ).action(async (opts: { store: string; kernels?: string; crawl?: string; arch?: ('x86_64' | 'arm64')[]; releaseFilter?: string; concurrency: number; signingKey?: string; redis?: string; unlocked?: boolean; json?: boolean }) => {
    const { checkCommand } = await import('./commands/check.js');
    exitCode = await checkCommand({ ...opts, s3: s3SettingsFrom(opts) });
  });

  program
    .command('keygen')
    .description('Create an ed25519 key pair for signing index.json (kbuild-index.key, kbuild-index.pub)')
    .requiredOption('-o, --out <dir>', 'folder for the two PEM files')
    .option('--json', 'print the paths and key id as JSON')
    .action(async (opts: { out: string; json?: boolean }) => {
      const { keygenCommand } = await import('./commands/keygen.js');
      exitCode = await keygenCommand(opts);
    });

  withS3Options(
    withIndexOptions(withHostOptions(program.command('fetch')))
      .description('Read and verify an index, pick for this host, download and verify what it needs (cached)')
      .requiredOption('-d, --dest <dir>', 'download cache (files named by sha256)')
      .option('-p, --probe <name...>', 'probes to fetch (default: every probe in the index)')
      .option('--json', 'print the choices, paths and verification as JSON'),
  ).action(async (opts: { dest: string }) => {
    const { fetchCommand } = await import('./commands/fetch.js');
    exitCode = await fetchCommand(opts);
  });

  withS3Options(
    withIndexOptions(program.command('report'))
      .description('Write the build matrix of an index (kernels × probes, BTF, QEMU results, failures) as one self-contained HTML page')
      .requiredOption('-o, --out <file>', 'the HTML file to write')
      .option('--json', 'print the summary counts as JSON'),
  ).action(async (opts: { out: string }) => {
    const { reportCommand } = await import('./commands/report.js');
    exitCode = await reportCommand(opts);
  });

  withFarmOptions(program.command('submit'))
    .description('Enqueue a build set (and a QEMU verification per kernel) on Redis for `kbuild worker`s; --wait follows it and exits 1 if a build or verification failed')
    .requiredOption('-k, --kernels <file>', 'kernels file', 'kernels.yaml')
    .option('-s, --store <url>', 'store the workers write to (a shared folder, file:// or s3:// URL)', 'out')
    .option('--wait', 'show progress until the index is published; exit 1 if any build failed')
    .option('--json', 'print a machine-readable summary on stdout')
    .addOption(new Option('--job-timeout <seconds>', 'time limit of one build; its processes are killed past it').argParser(positiveInt).default(1800))
    .addOption(new Option('--attempts <n>', 'attempts for network/archive errors (exponential backoff)').argParser(positiveInt).default(4))
    .option('--no-verify', 'do not queue a QEMU verification per kernel')
    .addOption(new Option('--verify-timeout <seconds>', 'time limit of one kernel\'s boot; QEMU is killed past it').argParser(positiveInt).default(300))
    .addOption(new Option('--core-check <scope>', 'before publishing, predict offline from each kernel\'s BTF whether the CO-RE objects load there (kbuild check): on the build set\'s kernels, or on every kernel the distros\' archives list for the arches built').choices(['kernels', 'archive']))
    .action(async (opts: { kernels: string; store: string; redis?: string; queue?: string; wait?: boolean; json?: boolean; jobTimeout: number; attempts: number; verify: boolean; verifyTimeout: number; coreCheck?: 'kernels' | 'archive' }) => {
      const { submitCommand } = await import('./commands/submit.js');
      exitCode = await submitCommand(opts);
    });

  withFarmOptions(program.command('worker'))
    .description('Process build jobs from Redis until SIGTERM (running builds finish first)')
    .addOption(new Option('-c, --concurrency <n>', 'jobs in flight; at most one per core ($KBUILD_CPU_SLOTS) extracts or compiles at once (default: $KBUILD_WORKER_CONCURRENCY or twice the cores)').argParser(positiveInt))
    .addOption(new Option('--lock-duration <ms>', 'a silent worker loses its jobs after this (default: $KBUILD_LOCK_DURATION_MS or 30000)').argParser(positiveInt))
    .addOption(new Option('--stalled-interval <ms>', 'how often to look for stalled jobs (default: $KBUILD_STALLED_INTERVAL_MS or 15000)').argParser(positiveInt))
    .addOption(new Option('--signing-key <file>', 'ed25519 private key (kbuild keygen) that signs the indexes this worker publishes').env('KBUILD_SIGNING_KEY'))
    .addOption(new Option('--metrics <[host:]port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (host: 127.0.0.1 unless given)').env('KBUILD_METRICS'))
    .action(async (opts: { redis?: string; queue?: string; concurrency?: number; lockDuration?: number; stalledInterval?: number; signingKey?: string; metrics?: string }) => {
      const { workerCommand } = await import('./commands/worker.js');
      exitCode = await workerCommand({
        ...opts,
        concurrency: opts.concurrency ?? envInt('KBUILD_WORKER_CONCURRENCY', defaultJobsInFlight()),
        lockDuration: opts.lockDuration ?? envInt('KBUILD_LOCK_DURATION_MS', 30000),
        stalledInterval: opts.stalledInterval ?? envInt('KBUILD_STALLED_INTERVAL_MS', 15000),
      });
    });

  withFarmOptions(program.command('status'))
    .description('Where a submission (default: the latest) stands, per kernel, with each failure; exit 1 if a build failed')
    .argument('[id]', 'submission id printed by submit')
    .option('--json', 'print the status as JSON')
    .action(async (id: string | undefined, opts: { redis?: string; queue?: string; json?: boolean }) => {
      const { statusCommand } = await import('./commands/status.js');
      exitCode = await statusCommand(id, opts);
    });

  withS3Options(withIndexOptions(withFarmOptions(program.command('dashboard'), { manyQueues: true })))
    .description("Serve bull-board over the farm's queues (loopback only unless --host; read-only unless --allow-actions) until SIGINT/SIGTERM; with --store, the store's build report at <base-path>/report, linked from the page")
    .option('--host <address>', 'address to listen on; anything but loopback exposes a dashboard without authentication', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', '3000')
    .option('--base-path <path>', 'URL path the dashboard is served under', '/')
    .option('--allow-actions', 'let the page retry, clean, promote and remove jobs')
    .option('--json', 'print {"url", "host", "port", ...} as one JSON line once listening')
    .action(async (opts: DashboardCommandOptions) => {
      const { dashboardCommand } = await import('./commands/dashboard.js');
      exitCode = await dashboardCommand(opts);
    });

  withS3Options(
    program
      .command('doctor')
      .description('Check the toolchain and services for what you will run; print what is missing and how to fix it (exit 1 if something required is)')
      .addOption(new Option('--for <use...>', 'what this machine will do: build (local builds), farm (submit/worker), verify (QEMU), docker (executor), load (BPF on this host)')
        .choices(['build', 'farm', 'verify', 'docker', 'load']).default(['build']))
      .addOption(new Option('--redis <url>', 'Redis to reach (required with --for farm; default there: redis://127.0.0.1:6379)').env('KBUILD_REDIS_URL'))
      .option('-s, --store <url>', 'store to check: a folder must be writable, an s3:// bucket must answer with these credentials')
      .option('-k, --kernels <file>', 'kernels file; the Docker engine is required when it asks for the docker executor')
      .addOption(new Option('--timeout <seconds>', 'time limit of each check').argParser(positiveInt).default(20))
      .option('--json', 'print every check as JSON'),
  ).action(async (opts: { for: ('build' | 'farm' | 'verify' | 'docker' | 'load')[]; redis?: string; store?: string; kernels?: string; timeout: number; json?: boolean }) => {
    const { doctorCommand } = await import('./commands/doctor.js');
    exitCode = await doctorCommand({ ...opts, s3: s3SettingsFrom(opts) });
  });

  withS3Options(
    withIndexOptions(withHostOptions(program.command('pick')))
      .description('Pick the artifact for this host (or the host described by flags) from an index')
      .option('-p, --probe <name>', 'probe to pick (default: every probe in the index)')
      .option('--json', 'print the choice and every rejection as JSON'),
  ).action(async (opts: Record<string, string | boolean | undefined>) => {
    const { pickCommand } = await import('./commands/pick.js');
    exitCode = await pickCommand(opts);
  });

  const btf = program.command('btf').description('External BTF steps alone: extract from an image, generate from a source, minimize for objects');
  btf
    .command('extract')
    .description('Extract the BTF embedded in a kernel image (a file, or fetched for --release)')
    .option('--image <file>', 'bzImage (x86_64) or Image (arm64)')
    .option('--distro <distro>', 'distro of --release', 'debian')
    .option('--release <release>', 'kernel release whose image package to fetch')
    .addOption(new Option('--arch <arch>', 'arch of the image').choices(['x86_64', 'arm64']).makeOptionMandatory())
    .requiredOption('-o, --out <file>', 'where to write the raw BTF')
    .option('--json', 'print the output path, size and image as JSON')
    .action(async (opts: { image?: string; distro?: string; release?: string; arch?: string; out: string; json?: boolean }) => {
      const { btfExtractCommand } = await import('./commands/btf.js');
      exitCode = await btfExtractCommand(opts);
    });
  btf
    .command('generate')
    .description("Full BTF of a kernel from the first source that has it (image, then dbg + pahole -J, then an archive)")
    .option('--distro <distro>', 'distro', 'debian')
    .requiredOption('--release <release>', 'kernel release (uname -r)')
    .addOption(new Option('--arch <arch>', 'arch').choices(['x86_64', 'arm64']).makeOptionMandatory())
    .option('--sources <list>', 'comma-separated sources in order (image,dbg,archive)')
    .option('--archive <url-or-folder>', 'BTFHub-style archive: <distro>/<version>/<arch>/<release>.btf.tar.xz')
    .option('--distro-version <v>', 'distro version for archive paths (e.g. 11)')
    .requiredOption('-o, --out <file>', 'where to write the raw BTF')
    .option('--json', 'print where the BTF came from as JSON')
    .action(async (opts: { distro?: string; release?: string; arch?: string; sources?: string; archive?: string; distroVersion?: string; out: string; json?: boolean }) => {
      const { btfGenerateCommand } = await import('./commands/btf.js');
      exitCode = await btfGenerateCommand(opts);
    });
  btf
    .command('minimize')
    .description('Cut a full BTF to what CO-RE objects relocate against (bpftool gen min_core_btf) and check the relocations')
    .argument('<objects...>', 'CO-RE objects')
    .requiredOption('--btf <file>', 'the full BTF of the target kernel')
    .requiredOption('-o, --out <file>', 'where to write the minimized BTF')
    .option('--json', 'print the relocation check as JSON')
    .action(async (objects: string[], opts: { btf: string; out: string; json?: boolean }) => {
      const { btfMinimizeCommand } = await import('./commands/btf.js');
      exitCode = await btfMinimizeCommand(objects, opts);
    });

  const images = program.command('images').description('Builder images for the Docker executor, and the image of kbuild itself');
  images
    .command('build')
    .description('Build the builder image of each distro (debootstrap + import when no registry answers); --kbuild: the image of kbuild running a worker')
    .option('--distro <id>', 'only this distro (default: every distro with images/<distro>/Dockerfile)')
    .option('--kbuild', 'build kbuild/kbuild (images/kbuild/Dockerfile: this kbuild, running `kbuild worker`) instead of builder images')
    .option('--farm', "build what deploy/compose.yaml runs: kbuild/kbuild, kbuild/redis (Debian's redis-server) and kbuild/rgw (Debian trixie's radosgw)")
    .option('--json', 'print a machine-readable report on stdout')
    .action(async (opts: { distro?: string; kbuild?: boolean; json?: boolean }) => {
      const { imagesBuildCommand } = await import('./commands/images.js');
      exitCode = await imagesBuildCommand(opts);
    });

  program
    .command('crawl')
    .description("List the kernels a distro's repositories offer, as kernels.yaml entries")
    .argument('<distro>', 'distro (debian, ubuntu, centos, rocky, almalinux, rhel, fedora, amzn)')
    .option('--release-filter <regex>', 'keep only releases matching this regular expression')
    .option('--flavour <flavour...>', 'keep only these flavours (cloud-amd64, rt-arm64, arm64-16k, aws, ...)')
    .option('--suite <suite...>', 'keep only kernels found in these suites or repositories (bookworm-security, trixie-backports, ...)')
    .addOption(new Option('--arch <arch...>', 'arches to crawl').choices(['x86_64', 'arm64']).default(['x86_64']))
    .addOption(new Option('--latest <n>', 'keep the newest N kernels per arch').argParser(positiveInt))
    .option('--mirror <url>', "archive base URL (default: the distro's configured or public mirror)")
    .option('--json', 'print the kernels as JSON (with package versions and sources)')
    .action(async (distro: string, opts: { releaseFilter?: string; flavour?: string[]; suite?: string[]; arch: ('x86_64' | 'arm64')[]; latest?: number; mirror?: string; json?: boolean }) => {
      const { crawlCommand } = await import('./commands/crawl.js');
      exitCode = await crawlCommand({ distro, ...opts });
    });

  withS3Options(
    withStoreOption(program.command('sync'), { flags: '-o, --out <dir|s3://bucket/prefix>', name: 'out' }, "the store whose index.json says what is built: a folder, file:// or s3:// URL (default: out)")
      .description("Crawl distros' archives and build (or submit to the farm) only the kernels the store's index does not hold yet")
      .requiredOption('-k, --kernels <file>', 'kernels file: the probes and settings (its kernels pin each arch\'s CO-RE vmlinux.h)', 'kernels.yaml')
      .option('-d, --distro <distro...>', 'distros to crawl', ['debian'])
      .addOption(new Option('--arch <arch...>', 'arches to crawl').choices(['x86_64', 'arm64']).default(['x86_64']))
      .option('--release-filter <regex>', 'keep only releases matching this regular expression')
      .option('--flavour <flavour...>', 'keep only these flavours (cloud-amd64, rt-arm64, arm64-16k, aws, ...)')
      .option('--suite <suite...>', 'keep only kernels found in these suites (bookworm-security, trixie-backports, ...)')
      .addOption(new Option('--latest <n>', 'keep the newest N kernels per distro and arch').argParser(positiveInt))
      .option('--mirror <url>', 'archive base URL to crawl (one --distro only)')
      .option('--redis <url>', 'submit the new kernels to the farm on this Redis instead of building here')
      .option('--queue <name>', 'farm queue name (default: $KBUILD_QUEUE or kbuild)')
      .option('--wait', 'with --redis: follow the submission until its index is published')
      .addOption(new Option('-c, --concurrency <n>', 'jobs in flight when building here').argParser(positiveInt).default(defaultJobsInFlight()))
      .addOption(new Option('--signing-key <file>', 'ed25519 private key (kbuild keygen) that signs index.json').env('KBUILD_SIGNING_KEY'))
      .option('--unlocked', 'publish to an S3 store without a lock (only when nothing else publishes to it)')
      .option('--no-verify', 'do not boot the new kernels in QEMU')
      .addOption(new Option('--verify-concurrency <n>', 'kernels booted at once').argParser(positiveInt))
      .addOption(new Option('--verify-timeout <seconds>', 'time limit of one kernel\'s boot').argParser(positiveInt).default(300))
      .addOption(new Option('--core-check <scope>', 'before publishing, predict offline from each kernel\'s BTF whether the CO-RE objects load there (kbuild check): on the build set\'s kernels, or on every kernel the distros\' archives list for the arches built').choices(['kernels', 'archive']))
      .addOption(new Option('--job-timeout <seconds>', 'with --redis: time limit of one build').argParser(positiveInt).default(1800))
      .addOption(new Option('--attempts <n>', 'with --redis: attempts for network/archive errors (exponential backoff)').argParser(positiveInt).default(4))
      .addOption(new Option('--interval <seconds>', 'keep following: a round every N seconds until SIGINT/SIGTERM').argParser(positiveInt))
      .option('--dry-run', 'print what would be added, build nothing')
      .option('--json', 'print each round as JSON (one line per round with --interval)'),
  ).action(async (opts: Omit<SyncOptions, 's3' | 'store'> & { store?: string; out?: string }) => {
    const { syncCommand } = await import('./commands/sync.js');
    exitCode = await syncCommand({ ...opts, store: storeFrom(opts, 'out', 'out'), s3: s3SettingsFrom(opts) });
  });

  program
    .command('schema')
    .description('Print the JSON Schema of kernels.yaml (for editors), or of index.json')
    .addOption(new Option('--of <what>', 'which schema').choices(['kernels', 'index']).default('kernels'))
    .addOption(new Option('--format <format>', 'JSON Schema, or the kernels.yaml field reference as Markdown').choices(['json', 'markdown']).default('json'))
    .action(async (opts: { of: 'kernels' | 'index'; format: 'json' | 'markdown' }) => {
      const { schemaCommand } = await import('./commands/schema.js');
      exitCode = schemaCommand(opts);
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    return handleError(err, usageHint(program, argv));
  }
}

/** "see kbuild btf extract --help": the deepest command the arguments name. */
function usageHint(program: Command, argv: readonly string[]): string {
  const path = [program.name()];
  let command = program;
  for (const arg of argv.slice(2)) {
    const sub = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (sub === undefined) continue;
    path.push(sub.name());
    command = sub;
  }
  return `see ${path.join(' ')} --help`;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new KbuildError('E_USAGE', `expected a positive integer, got "${value}"`, { exitCode: 2 });
  return n;
}

/** A default from the environment, checked like the flag it stands for. */
function envInt(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new KbuildError('E_USAGE', `${name}: expected a positive integer, got "${value}"`, { exitCode: 2 });
  return n;
}

function handleError(err: unknown, hint: string): number {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0;
    // A help screen asked for by a bare group command (`kbuild btf`) has been written already.
    if (err.code !== 'commander.help') process.stderr.write(`kbuild: ${err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').replace(/\.$/, '')}; ${hint}\n`);
    return 2;
  }
  if (err instanceof KbuildError) {
    process.stderr.write(`kbuild: ${err.message}${err.code === 'E_USAGE' ? `; ${hint}` : ''}\n`);
    for (const s of err.suggestions) process.stderr.write(`  Try this: ${s}\n`);
    return err.exitCode;
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`kbuild: internal error (this is a bug, please report it)\n${detail}\n`);
  return 70;
}
