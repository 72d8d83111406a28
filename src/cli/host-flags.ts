import type { HostIdentity } from '../loader/host.js';

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
