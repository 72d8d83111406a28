import { KbuildError } from '../errors.js';

/**
 * Store keys are built from kernels.yaml strings, so every key is checked
 * here before any backend turns it into a path or an object name.
 */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,200}$/;

export function assertSafeKey(key: string): string {
  const parts = key.split('/');
  const bad = parts.find((part) => !SEGMENT.test(part) || part === '.' || part === '..');
  if (key.length > 512 || bad !== undefined) {
    throw new KbuildError('E_STORE_KEY', `refusing unsafe store key "${key}"`);
  }
  return key;
}

/** `<probe>/<arch>/<probe>_<distro>_<release>.o`: one release string can exist for several arches. */
export function nonCoreKey(probe: string, arch: string, distro: string, release: string): string {
  return assertSafeKey(`${probe}/${arch}/${probe}_${distro}_${release}.o`);
}

/** CO-RE objects live apart from per-kernel ones: `core/<arch>/<probe>.o`. */
export function coreKey(probe: string, arch: string): string {
  return assertSafeKey(`core/${arch}/${probe}.o`);
}

/** Build record beside each artifact: what made it, so a rebuild can be skipped. */
export function recordKey(artifactKey: string): string {
  return assertSafeKey(`${artifactKey}.build.json`);
}

export const INDEX_KEY = 'index.json';
