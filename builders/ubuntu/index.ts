import type { HttpOptions } from '@kbuild/loader/internal';
import type { KernelIdentity } from '../../src/kernel/identity.js';
import { releaseProblem } from '../../src/kernel/release.js';
import { ConfigError, NotSupportedError } from '../../src/errors.js';
import { asRef, headerTrees, withRefresh, type DebFetch } from '../../src/repo/apt/header-tree.js';
import { aptTrust } from '../../src/repo/apt/trust.js';
import { seriesOf, ubuntuMirror, UBUNTU_KEYRING, type UbuntuBuilderOptions } from './settings.js';
import type { BuilderContext, DistroBuilder, FetchedHeaders, FetchedImage } from '../types.js';
import { crawlUbuntu } from './crawl.js';
import { resolveUbuntuHeaders, type UbuntuResolveContext } from './resolve.js';

const SIX_HOURS = 6 * 60 * 60 * 1000;

interface Operation {
  readonly resolve: UbuntuResolveContext;
  readonly fetch: DebFetch;
  downloads: number;
}

function start(kernel: KernelIdentity, context: BuilderContext, options: UbuntuBuilderOptions, refresh: boolean): Operation {
  if (kernel.distro !== 'ubuntu') throw new ConfigError(`the ubuntu builder cannot fetch ${kernel.distro} kernels`);
  const problem = releaseProblem(kernel.release);
  if (problem !== undefined) throw new ConfigError(`kernel release ${JSON.stringify(kernel.release)} ${problem}`);
  const mirror = ubuntuMirror(kernel.arch, context, options.env ?? process.env);
  const http: HttpOptions = { ...options.http, ...(context.signal === undefined ? {} : { signal: context.signal }) };
  const series = seriesOf(options);
  const operation: Operation = {
    downloads: 0,
    resolve: {
      cacheDir: context.cacheDir,
      mirror,
      ...(series === undefined ? {} : { series }),
      index: {
        ttlMs: options.indexTtlMs ?? SIX_HOURS,
        http,
        refresh,
        trust: aptTrust('ubuntu', UBUNTU_KEYRING, options),
        onDownload: (url, bytes) => {
          operation.downloads++;
          context.log?.('ubuntu index downloaded', { url, bytes });
        },
      },
    },
    fetch: {
      archive: 'ubuntu',
      cacheDir: context.cacheDir,
      mirror,
      http,
      log: context.log,
      onDownload: () => {
        operation.downloads++;
      },
    },
  };
  return operation;
}

async function fetchHeaders(operation: Operation, kernel: KernelIdentity): Promise<FetchedHeaders> {
  const { value } = await resolveUbuntuHeaders(operation.resolve, kernel);
  const { headers, common } = value;
  const trees = await headerTrees(operation.fetch, headers, common, { flavour: `linux-headers-${kernel.release}`, common: common.name });
  return { kernel, trees, packages: [asRef(headers), asRef(common)], fromCache: operation.downloads === 0 };
}

export function createUbuntuBuilder(options: UbuntuBuilderOptions = {}): DistroBuilder {
  return {
    distro: 'ubuntu',
    arches: ['x86_64', 'arm64'],
    covers: 'Ubuntu 16.04 xenial to 24.04 noble and later series: generic, lowlatency, aws, azure, gcp, ... flavours and HWE kernels; amd64 and arm64',
    supportsImages: false,
    fetchHeaders: (kernel, context) => withRefresh(async (refresh) => fetchHeaders(start(kernel, context, options, refresh), kernel)),
    fetchImage: (kernel: KernelIdentity): Promise<FetchedImage> =>
      Promise.reject(
        new NotSupportedError(`fetching ${kernel.distro} kernel images is not supported yet (CO-RE BTF comes from Debian kernel images)`, {
          suggestions: ['Take core.btfFrom from a debian kernel in kernels.yaml'],
        }),
      ),
    crawl: (context, crawlOptions) => crawlUbuntu(context, crawlOptions, options),
  };
}

export const ubuntuBuilder: DistroBuilder = createUbuntuBuilder();
