import { isIP } from 'node:net';
import { ConfigError } from '../errors.js';

/** Whether only this machine can reach a server bound to `host`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1' || h.startsWith('::ffff:127.');
}

/** A URL authority for `host`: IPv6 literals need brackets. */
export function urlHost(host: string): string {
  const h = host.replace(/^\[|\]$/g, '');
  return isIP(h) === 6 ? `[${h}]` : h;
}

/**
 * The URL prefix the board is served under: "/" or "/a/b" (no trailing slash).
 * It lands in the page's links, so only plain path characters are allowed.
 */
export function normalizeBasePath(raw: string): string {
  const trimmed = raw.trim();
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(trimmed) || trimmed.includes('//') || /(^|\/)\.\.?(\/|$)/.test(trimmed)) {
    throw new ConfigError(`--base-path: expected a URL path like "/" or "/farm/queues", got ${JSON.stringify(raw)}`);
  }
  const path = trimmed.replace(/\/+$/, '');
  return path === '' ? '/' : path;
}

export function parsePort(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(n) || n > 65535) {
    throw new ConfigError(`--port: expected 0-65535 (0: any free port), got "${raw}"`);
  }
  return n;
}
