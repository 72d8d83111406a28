import { resolve } from 'node:path';
import { ExecError, run } from '../../exec/exec.js';

/**
 * OpenPGP clear-signature checks through gpgv, as apt does: gpgv only
 * verifies (no trust database, no key import) against the keyrings named.
 * The signed text comes from gpgv's own --output, so whatever an attacker
 * wraps around the signed block never reaches a parser.
 */

export type Verification =
  | { readonly ok: true; readonly text: string; readonly signers: readonly string[] }
  | { readonly ok: false; readonly problem: string };

const BEGIN = '-----BEGIN PGP SIGNED MESSAGE-----';
const SIG_BEGIN = '-----BEGIN PGP SIGNATURE-----';
const SIG_END = '-----END PGP SIGNATURE-----';

/** Digests apt no longer accepts: MD5, SHA1, RIPEMD160 (RFC 4880 ids). */
const WEAK_DIGESTS = new Set(['1', '2', '3']);

/**
 * Exactly one clear-signed message and nothing after it. gpgv alone would
 * ignore extra text, but apt rejects such files (its InRelease parsing bugs
 * came from text outside the signature), and so do we.
 */
export function clearSignedShape(text: string): string | undefined {
  const count = (marker: string): number => text.split(`\n${marker}`).length - 1 + (text.startsWith(marker) ? 1 : 0);
  if (!text.startsWith(`${BEGIN}\n`)) return `does not start with "${BEGIN}"`;
  if (count(BEGIN) !== 1 || count(SIG_BEGIN) !== 1 || count(SIG_END) !== 1) return 'holds more than one signed message';
  const end = text.indexOf(`\n${SIG_END}`) + SIG_END.length + 1;
  if (text.slice(end).trim() !== '') return 'has data after its signature';
  return undefined;
}

interface SignatureBlock {
  readonly lines: readonly string[];
}

/** Splits gpgv's status lines into one block per signature (NEWSIG starts each). */
function signatureBlocks(status: string): SignatureBlock[] {
  const blocks: string[][] = [];
  for (const line of status.split('\n')) {
    if (!line.startsWith('[GNUPG:] ')) continue;
    const body = line.slice('[GNUPG:] '.length);
    if (body === 'NEWSIG' || body.startsWith('NEWSIG ') || blocks.length === 0) blocks.push([]);
    blocks[blocks.length - 1]?.push(body);
  }
  return blocks.map((lines) => ({ lines }));
}

/**
 * apt's rule: at least one good signature and no bad one. Signatures by keys
 * absent from the keyrings are tolerated (Debian signs with several keys,
 * and an older keyring knows only some); expired, revoked or weak-digest
 * signatures count for nothing.
 */
export function judgeStatus(status: string): { signers: string[]; problems: string[] } {
  const signers: string[] = [];
  const problems: string[] = [];
  let bad = false;
  for (const { lines } of signatureBlocks(status)) {
    const word = (name: string): string[] | undefined => lines.find((l) => l.split(' ')[0] === name)?.split(' ');
    const valid = word('VALIDSIG');
    const key = word('ERRSIG')?.[1] ?? word('BADSIG')?.[1] ?? valid?.[1] ?? 'unknown';
    if (word('BADSIG') !== undefined) {
      bad = true;
      problems.push(`bad signature by key ${key}: the signed text was altered`);
    } else if (word('NO_PUBKEY') !== undefined) problems.push(`signed by unknown key ${word('NO_PUBKEY')?.[1] ?? key}`);
    else if (word('EXPKEYSIG') !== undefined) problems.push(`signed by expired key ${key}`);
    else if (word('REVKEYSIG') !== undefined) problems.push(`signed by revoked key ${key}`);
    else if (word('EXPSIG') !== undefined) problems.push(`expired signature by key ${key}`);
    else if (word('ERRSIG') !== undefined) problems.push(`unverifiable signature by key ${key}`);
    else if (valid !== undefined && word('GOODSIG') !== undefined) {
      // VALIDSIG <sig fpr> <date> <ts> <expire> <version> <reserved> <pk algo> <hash algo> <class> <primary fpr>
      if (WEAK_DIGESTS.has(valid[8] ?? '')) problems.push(`signature by key ${key} uses a weak digest`);
      else signers.push(valid[10] ?? key);
    }
  }
  if (signers.length === 0 && problems.length === 0) problems.push('no signature found');
  return { signers: bad ? [] : signers, problems };
}

export interface VerifyOptions {
  readonly keyrings: readonly string[];
  readonly signal?: AbortSignal;
}

/** Verifies a clear-signed document; on success returns only the text the signature covers. */
export async function verifyClearSigned(document: Buffer, options: VerifyOptions): Promise<Verification> {
  const shape = clearSignedShape(document.toString('latin1').replace(/\r\n/g, '\n'));
  if (shape !== undefined) return { ok: false, problem: `not a clear-signed file: it ${shape}` };
  // Paths without a slash would be looked up in ~/.gnupg, a keyring the user did not name.
  const keyrings = options.keyrings.flatMap((k) => ['--keyring', resolve(k)]);
  const args = ['--status-fd', '2', '--output', '-', ...keyrings, '-'];
  let stdout: string;
  let stderr: string;
  try {
    ({ stdout, stderr } = await run('gpgv', args, {
      input: document,
      timeoutMs: 30_000,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    }));
  } catch (err) {
    // gpgv exits non-zero as soon as one signature is unverifiable; the status lines decide.
    if (!(err instanceof ExecError) || err.timedOut || err.signal !== undefined) throw err;
    ({ stdout, stderr } = err);
  }
  const { signers, problems } = judgeStatus(stderr);
  if (signers.length === 0) return { ok: false, problem: problems.join('; ') };
  return { ok: true, text: stdout, signers };
}
