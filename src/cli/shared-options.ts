import { Option, type Command } from 'commander';
import type { HostIdentity } from '@kbuild/loader/internal';

/** `--distro`, `--release`, `--kernel-version`, `--arch`, `--btf yes|no` of `pick` and `fetch`: what host detection must not guess. */
export function hostOverrides(opts: Readonly<Record<string, unknown>>): Partial<HostIdentity> {
  return {
    ...(typeof opts['distro'] === 'string' ? { distro: opts['distro'] } : {}),
    ...(typeof opts['release'] === 'string' ? { release: opts['release'] } : {}),
    ...(typeof opts['kernelVersion'] === 'string' ? { version: opts['kernelVersion'] } : {}),
    ...(opts['arch'] === 'x86_64' || opts['arch'] === 'arm64' ? { arch: opts['arch'] } : {}),
    ...(typeof opts['btf'] === 'string' ? { hasBtf: opts['btf'] === 'yes' } : {}),
  };
}

/** The host flags of `pick` and `fetch`, declared once. */
export function withHostOptions(command: Command): Command {
  return command
    .option('--distro <id>', 'host distro (default: from /etc/os-release)')
    .option('--release <release>', 'host kernel release (default: uname -r)')
    .option('--kernel-version <version>', 'host kernel version (default: uname -v)')
    .addOption(new Option('--arch <arch>', 'host arch').choices(['x86_64', 'arm64']))
    .addOption(new Option('--btf <yes|no>', 'whether the host kernel has /sys/kernel/btf/vmlinux').choices(['yes', 'no']))
    .option('--prefer-core', 'take the CO-RE object (with an external BTF when the kernel has none) over an exact per-kernel one')
    .option('--require-verified', 'choose only artifacts the index lists as verified in QEMU on this kernel (in the mode they would run in)');
}

/** `--redis` and `--queue` of the farm's commands (`submit`, `worker`, `status`, `dashboard`), declared once; `manyQueues`: `--queue <name...>`. */
export function withFarmOptions(command: Command, options: { manyQueues?: boolean } = {}): Command {
  return command
    .option('--redis <url>', 'Redis URL (default: $KBUILD_REDIS_URL or redis://127.0.0.1:6379)')
    .option(options.manyQueues === true ? '--queue <name...>' : '--queue <name>', `queue name${options.manyQueues === true ? 's' : ''} (default: $KBUILD_QUEUE or kbuild)`);
}
