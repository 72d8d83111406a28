import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clearSignedShape, judgeStatus } from './gpgv.js';
import { parseRelease } from './release.js';

const FPR = '4CB50190207B4758A3F73A796ED0E7B82643E131';
const PRIMARY = 'B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8';
const good = (hashAlgo = '8'): string[] => [
  'NEWSIG',
  `GOODSIG 6ED0E7B82643E131 Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org>`,
  `VALIDSIG ${FPR} 2026-07-11 1783765031 0 4 0 1 ${hashAlgo} 01 ${PRIMARY}`,
];
const status = (...lines: string[]): string => lines.map((l) => `[GNUPG:] ${l}\ngpgv: human text\n`).join('');

describe('gpgv status lines', () => {
  it('accepts a good signature and names the primary key', () => {
    assert.deepEqual(judgeStatus(status('PLAINTEXT 74 0', ...good())), { signers: [PRIMARY], problems: [] });
  });

  it('tolerates a signature by an unknown key beside a good one, as apt does', () => {
    const unknown = ['NEWSIG', 'ERRSIG 78DBA3BC47EF2265 1 8 01 1783765032 9 B8E5F131', 'NO_PUBKEY 78DBA3BC47EF2265'];
    const judged = judgeStatus(status(...unknown, ...good()));
    assert.deepEqual(judged.signers, [PRIMARY]);
    assert.deepEqual(judged.problems, ['signed by unknown key 78DBA3BC47EF2265']);
    assert.deepEqual(judgeStatus(status(...unknown)).signers, []);
  });

  it('lets one bad signature spoil the good ones', () => {
    const judged = judgeStatus(status(...good(), 'NEWSIG', 'BADSIG 925846A6B4A01B11 rogue'));
    assert.deepEqual(judged.signers, []);
    assert.match(judged.problems.join(), /bad signature by key 925846A6B4A01B11/);
  });

  it('counts expired or revoked keys and weak digests for nothing, though gpg calls them valid', () => {
    const expired = ['NEWSIG', 'EXPKEYSIG 6ED0E7B82643E131 old', `VALIDSIG ${FPR} 2019-01-01 1 0 4 0 1 8 01 ${PRIMARY}`];
    assert.deepEqual(judgeStatus(status(...expired)).signers, []);
    const revoked = ['NEWSIG', 'REVKEYSIG 6ED0E7B82643E131 old', `VALIDSIG ${FPR} 2019-01-01 1 0 4 0 1 8 01 ${PRIMARY}`];
    assert.match(judgeStatus(status(...revoked)).problems.join(), /revoked key/);
    assert.deepEqual(judgeStatus(status(...good('2'))), { signers: [], problems: [`signature by key ${FPR} uses a weak digest`] });
  });

  it('reports an empty status as no signature', () => {
    assert.deepEqual(judgeStatus(''), { signers: [], problems: ['no signature found'] });
  });
});

describe('clear-signed shape', () => {
  const signed = '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSuite: x\n- -----BEGIN PGP SIGNATURE-----\n' +
    '-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n';
  it('accepts one message (dash-escaped lines inside do not count) and trailing blank lines', () => {
    assert.equal(clearSignedShape(signed), undefined);
    assert.equal(clearSignedShape(`${signed}\n  \n`), undefined);
  });
  it('rejects text before, after, or a second message', () => {
    assert.match(clearSignedShape(`x\n${signed}`) ?? '', /does not start/);
    assert.match(clearSignedShape(`${signed}Suite: y\n`) ?? '', /data after its signature/);
    assert.match(clearSignedShape(`${signed}${signed}`) ?? '', /more than one signed message/);
  });
});

describe('Release parsing', () => {
  const text = [
    'Origin: Debian',
    'Suite: oldstable',
    'Codename: bookworm',
    'Date: Sat, 11 Jul 2026 10:16:37 UTC',
    'Valid-Until: Fri, 06 Nov 2026 08:08:01 UTC',
    'Acquire-By-Hash: yes',
    'MD5Sum:',
    ' 0123456789abcdef0123456789abcdef  1 main/binary-amd64/Packages.xz',
    'SHA256:',
    ` ${'A'.repeat(64)}  8790396 main/binary-amd64/Packages.xz`,
    ` ${'b'.repeat(64)}      123 main/binary-arm64/Packages.xz`,
    ' not a line',
    '',
    'SHA256:',
    ` ${'c'.repeat(64)} 1 main/binary-amd64/Packages.xz`,
  ].join('\n');

  it('reads suite, codename, Valid-Until and the SHA256 list of the first stanza only', () => {
    const release = parseRelease(text);
    assert.equal(release.suite, 'oldstable');
    assert.equal(release.codename, 'bookworm');
    assert.equal(release.validUntil, Date.UTC(2026, 10, 6, 8, 8, 1));
    assert.equal(release.acquireByHash, true);
    assert.deepEqual([...release.sha256], [
      ['main/binary-amd64/Packages.xz', { sha256: 'a'.repeat(64), size: 8790396 }],
      ['main/binary-arm64/Packages.xz', { sha256: 'b'.repeat(64), size: 123 }],
    ]);
  });

  it('marks an unreadable Valid-Until instead of dropping it', () => {
    assert.ok(Number.isNaN(parseRelease('Codename: sid\nValid-Until: someday\n').validUntil));
    assert.equal(parseRelease('Codename: sid\n').validUntil, undefined);
  });
});
