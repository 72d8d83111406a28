import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { requireTrust, type IndexTrustResult, type RequiredTrust } from '@kbuild/loader/internal';
import { KbuildError } from '../errors.js';

/**
 * `--store` is the one name of "where the store (and its index.json) is" in
 * every command; `--index` (pick, fetch, report) and `--out` (build) are the
 * old names, still accepted and hidden from the help.
 */
export function withStoreOption(command: Command, alias: { flags: string; name: string }, description: string): Command {
  return command
    .option('-s, --store <location>', description)
    .addOption(new Option(alias.flags, `old name of --store`).hideHelp());
}

/** The store a command was given under either name; `fallback` when neither (undefined: the flag is required). */
export function storeFrom(opts: Readonly<Record<string, unknown>>, aliasName: string, fallback?: string): string {
  const store = typeof opts['store'] === 'string' ? opts['store'] : undefined;
  const alias = typeof opts[aliasName] === 'string' ? (opts[aliasName] as string) : undefined;
  if (store !== undefined && alias !== undefined && store !== alias) {
    throw new KbuildError('E_USAGE', `--store ${store} and --${aliasName} ${alias} name two stores; --${aliasName} is the old name of --store, give one`, { exitCode: 2 });
  }
  const location = store ?? alias ?? fallback;
  if (location === undefined) throw new KbuildError('E_USAGE', "required option '-s, --store <location>' not specified", { exitCode: 2 });
  return location;
}

const INDEX_LOCATION = 'the index: index.json or the store folder holding it, as a path, file://, http(s):// or s3:// URL';

/** What `pick`, `fetch` and `report` take to read an index: where, and how far to trust it. */
export function withIndexOptions(command: Command): Command {
  return withStoreOption(command, { flags: '-i, --index <location>', name: 'index' }, INDEX_LOCATION)
    .option('--public-key <file>', 'ed25519 public key (kbuild keygen) the index must be signed with')
    .option('--allow-unsigned', 'accept an index without a signature (required when no --public-key is given)');
}

/** `--public-key FILE` read, or `--allow-unsigned`; neither is refused with E_NO_PUBLIC_KEY before anything is read. */
export async function indexTrustFrom(opts: Readonly<Record<string, unknown>>, location: string): Promise<RequiredTrust> {
  const file = opts['publicKey'];
  const publicKey =
    typeof file !== 'string'
      ? undefined
      : await readFile(file).catch((err: NodeJS.ErrnoException) => {
          throw new KbuildError('E_PUBLIC_KEY', `${file}: cannot read the public key (${err.code ?? err.message})`, { exitCode: 2 });
        });
  return requireTrust({ ...(publicKey === undefined ? {} : { publicKey }), ...(opts['allowUnsigned'] === true ? { allowUnsigned: true } : {}) }, location);
}

/** How pick, fetch and report tell on stderr what the index was trusted as. */
export function trustLine(trust: IndexTrustResult): string {
  return trust.signed ? `index signed by key ${trust.keyId}` : 'index NOT signed (--allow-unsigned)';
}
