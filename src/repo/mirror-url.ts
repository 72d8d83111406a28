import { ConfigError } from '../errors.js';

/**
 * A distro's archive base URL: kernels.yaml (`mirrors.<distro>`, passed as
 * BuilderContext.mirror) wins over KBUILD_<DISTRO>_MIRROR, which wins over
 * the builder's public default. Returned without a trailing slash.
 */
export function mirrorFromSetting(distro: string, configured: string | undefined, fromEnv: string | undefined, fallback: string | undefined): string {
  const envName = `KBUILD_${distro.toUpperCase()}_MIRROR`;
  const [raw, source] =
    configured !== undefined && configured !== ''
      ? [configured, 'configuration']
      : fromEnv !== undefined && fromEnv !== ''
        ? [fromEnv, envName]
        : [fallback, 'the default'];
  if (raw === undefined) {
    throw new ConfigError(`no ${distro} mirror configured`, {
      suggestions: [`Set mirrors.${distro} in kernels.yaml, --mirror, or the ${envName} environment variable`],
    });
  }
  const url = raw.trim().replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+[^\s]*$/.test(url)) throw new ConfigError(`${distro} mirror ${JSON.stringify(raw)} from ${source} is not an http(s) URL`);
  return url;
}
