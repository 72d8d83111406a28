import type { HttpOptions } from '@kbuild/loader/internal';
import type { Arch } from '../../src/kernel/identity.js';
import { ConfigError } from '../../src/errors.js';
import type { AptTrustSettings } from '../../src/repo/apt/trust.js';
import { mirrorFromSetting } from '../../src/repo/mirror-url.js';
import type { BuilderContext } from '../types.js';

/** Ubuntu's archive keys: Debian's ubuntu-keyring package installs them here. */
export const UBUNTU_KEYRING = '/usr/share/keyrings/ubuntu-archive-keyring.gpg';

/** Public defaults: amd64 lives on the main archive, every other arch on ports. */
export const UBUNTU_DEFAULT_MIRRORS: Readonly<Record<Arch, string>> = {
  x86_64: 'http://archive.ubuntu.com/ubuntu',
  arm64: 'http://ports.ubuntu.com/ubuntu-ports',
};

export interface UbuntuBuilderOptions extends AptTrustSettings {
  /** Series searched for every kernel (e.g. ["jammy"]); else KBUILD_UBUNTU_SERIES, else by kernel version. */
  readonly series?: readonly string[];
  readonly http?: HttpOptions;
  readonly indexTtlMs?: number;
}

export function seriesOf(options: UbuntuBuilderOptions): readonly string[] | undefined {
  if (options.series !== undefined) return options.series;
  const fromEnv = (options.env ?? process.env)['KBUILD_UBUNTU_SERIES']?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (fromEnv === undefined || fromEnv.length === 0) return undefined;
  for (const series of fromEnv) {
    if (!/^[a-z]{3,20}$/.test(series)) throw new ConfigError(`KBUILD_UBUNTU_SERIES: "${series}" is not an Ubuntu series name such as jammy`);
  }
  return fromEnv;
}

export function ubuntuMirror(arch: Arch, context: Pick<BuilderContext, 'mirror'>, env: NodeJS.ProcessEnv): string {
  return mirrorFromSetting('ubuntu', context.mirror, env['KBUILD_UBUNTU_MIRROR'], UBUNTU_DEFAULT_MIRRORS[arch]);
}

