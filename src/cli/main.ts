import { Command, CommanderError, Option } from 'commander';
import { KbuildError } from '../errors.js';
import { VERSION } from '../version.js';

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

  program
    .command('build')
    .description('Build every probe for every kernel of a kernels file on this machine (no Redis)')
    .requiredOption('-k, --kernels <file>', 'kernels file', 'kernels.yaml')
    .option('-o, --out <dir>', 'output folder (the filesystem store)', 'out')
    .addOption(new Option('-c, --concurrency <n>', 'parallel jobs').argParser(positiveInt).default(2))
    .option('--json', 'print a machine-readable summary on stdout')
    .action(async (opts: { kernels: string; out: string; concurrency: number; json?: boolean }) => {
      const { buildCommand } = await import('./commands/build.js');
      exitCode = await buildCommand(opts);
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
    .command('crawl')
    .description("List the kernels a distro's repositories offer, as kernels.yaml entries")
    .argument('<distro>', 'distro (debian, ubuntu, centos, rocky, almalinux, rhel, fedora, amzn)')
    .option('--release-filter <regex>', 'keep only releases matching this regular expression')
    .addOption(new Option('--arch <arch...>', 'arches to crawl').choices(['x86_64', 'arm64']).default(['x86_64']))
    .addOption(new Option('--latest <n>', 'keep the newest N kernels per arch').argParser(positiveInt))
    .option('--mirror <url>', "archive base URL (default: the distro's configured or public mirror)")
    .action(async (distro: string, opts: { releaseFilter?: string; arch: ('x86_64' | 'arm64')[]; latest?: number; mirror?: string }) => {
      const { crawlCommand } = await import('./commands/crawl.js');
      exitCode = await crawlCommand({ distro, ...opts });
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
