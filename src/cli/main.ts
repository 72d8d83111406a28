import { Command, CommanderError, Option } from 'commander';
import { KbuildError } from '../errors.js';
import { VERSION } from '../version.js';
import { s3SettingsFrom, withS3Options } from './s3-options.js';

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
    .exitOverride()
    .showHelpAfterError();

  withS3Options(
    program
      .command('build')
      .description('Build every probe for every kernel of a kernels file on this machine (no Redis)')
      .requiredOption('-k, --kernels <file>', 'kernels file', 'kernels.yaml')
      .option('-o, --out <dir|s3://bucket/prefix>', 'the store: a folder, file:// or s3:// URL', 'out')
      .addOption(new Option('-c, --concurrency <n>', 'parallel jobs').argParser(positiveInt).default(2))
      .addOption(new Option('--signing-key <file>', 'ed25519 private key (kbuild keygen) that signs index.json').env('KBUILD_SIGNING_KEY'))
      .addOption(new Option('--redis <url>', 'Redis that serializes index updates of a shared S3 store').env('KBUILD_REDIS_URL'))
      .option('--json', 'print a machine-readable summary on stdout'),
  ).action(async (opts: { kernels: string; out: string; concurrency: number; json?: boolean; signingKey?: string; redis?: string }) => {
    const { buildCommand } = await import('./commands/build.js');
    exitCode = await buildCommand({ ...opts, s3: s3SettingsFrom(opts) });
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
    program
      .command('fetch')
      .description('Read and verify an index, pick for this host, download and verify what it needs (cached)')
      .requiredOption('-i, --index <url>', 'index.json: a path, file://, http(s):// or s3:// URL')
      .requiredOption('-d, --dest <dir>', 'download cache (files named by sha256)')
      .option('-p, --probe <name...>', 'probes to fetch (default: every probe in the index)')
      .option('--public-key <file>', 'ed25519 public key (kbuild keygen) the index must be signed with')
      .option('--allow-unsigned', 'accept an index without a signature')
      .option('--distro <id>', 'host distro (default: from /etc/os-release)')
      .option('--release <release>', 'host kernel release (default: uname -r)')
      .option('--kernel-version <version>', 'host kernel version (default: uname -v)')
      .addOption(new Option('--arch <arch>', 'host arch').choices(['x86_64', 'arm64']))
      .addOption(new Option('--btf <yes|no>', 'whether the host kernel has /sys/kernel/btf/vmlinux').choices(['yes', 'no']))
      .option('--json', 'print the choices, paths and verification as JSON'),
  ).action(async (opts: { index: string; dest: string }) => {
    const { fetchCommand } = await import('./commands/fetch.js');
    exitCode = await fetchCommand(opts);
  });

  program
    .command('pick')
    .description('Pick the artifact for this host (or the host described by flags) from an index')
    .requiredOption('-i, --index <path>', 'index.json of a build')
    .option('-p, --probe <name>', 'probe to pick (default: every probe in the index)')
    .option('--distro <id>', 'host distro (default: from /etc/os-release)')
    .option('--release <release>', 'host kernel release (default: uname -r)')
    .option('--kernel-version <version>', 'host kernel version (default: uname -v)')
    .addOption(new Option('--arch <arch>', 'host arch').choices(['x86_64', 'arm64']))
    .addOption(new Option('--btf <yes|no>', 'whether the host kernel has /sys/kernel/btf/vmlinux').choices(['yes', 'no']))
    .option('--json', 'print the choice and every rejection as JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { pickCommand } = await import('./commands/pick.js');
      exitCode = await pickCommand(opts);
    });

  program
    .command('schema')
    .description('Print the JSON Schema of kernels.yaml (for editors), or of index.json')
    .addOption(new Option('--of <what>', 'which schema').choices(['kernels', 'index']).default('kernels'))
    .action(async (opts: { of: 'kernels' | 'index' }) => {
      const { schemaCommand } = await import('./commands/schema.js');
      exitCode = schemaCommand(opts);
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    return handleError(err);
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new KbuildError('E_USAGE', `expected a positive integer, got "${value}"`, { exitCode: 2 });
  return n;
}

function handleError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof KbuildError) {
    process.stderr.write(`kbuild: ${err.message}\n`);
    for (const s of err.suggestions) process.stderr.write(`  Try this: ${s}\n`);
    return err.exitCode;
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`kbuild: internal error (this is a bug, please report it)\n${detail}\n`);
  return 70;
}
