import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArchiveError } from '../../errors.js';
import { parsePrimary, parseRepomd } from './metadata.js';

const SHA = 'ab'.repeat(32);

// Shaped like createrepo_c's output (fields trimmed).
const REPOMD = `<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1732000000</revision>
  <data type="primary">
    <checksum type="sha256">${SHA}</checksum>
    <open-checksum type="sha256">${'cd'.repeat(32)}</open-checksum>
    <location href="repodata/${SHA}-primary.xml.zst"/>
    <timestamp>1732000000</timestamp>
    <size>1234</size>
  </data>
  <data type="filelists"><checksum type="sha256">${SHA}</checksum><location href="repodata/x-filelists.xml.gz"/></data>
</repomd>`;

const pkg = (name: string, href: string, checksumType = 'sha256'): string => `<package type="rpm">
  <name>${name}</name>
  <arch>x86_64</arch>
  <version epoch="0" ver="4.18.0" rel="553.el8_10"/>
  <checksum type="${checksumType}" pkgid="YES">${SHA}</checksum>
  <size package="24000000" installed="70000000" archive="70100000"/>
  <location href="${href}"/>
</package>`;

const primary = (...packages: string[]): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" packages="${packages.length}">\n${packages.join('\n')}\n</metadata>`;

describe('rpm-md metadata', () => {
  it('finds the primary metadata with its checksum and size', () => {
    assert.deepEqual(parseRepomd(REPOMD, 'repomd.xml'), { href: `repodata/${SHA}-primary.xml.zst`, sha256: SHA, size: 1234 });
  });

  it('refuses a primary location outside repodata/ or without sha256', () => {
    assert.throws(() => parseRepomd(REPOMD.replace(`repodata/${SHA}-primary.xml.zst`, '../../etc/primary.xml'), 'r'), /is not a repodata/);
    assert.throws(() => parseRepomd(REPOMD.replace('<checksum type="sha256">', '<checksum type="sha1">'), 'r'), /no sha256 checksum \(found sha1\)/);
    assert.throws(() => parseRepomd('<repomd></repomd>', 'r'), /no <data type="primary">/);
  });

  it('parses only kernel-devel entries', () => {
    const xml = primary(pkg('bash', 'Packages/b/bash.rpm'), pkg('kernel-devel', 'Packages/k/kernel-devel-4.18.0-553.el8_10.x86_64.rpm'));
    assert.deepEqual(parsePrimary(xml, new Set(['kernel-devel']), 'p'), [{
      name: 'kernel-devel', arch: 'x86_64', epoch: '0', version: '4.18.0', release: '553.el8_10', sha256: SHA, size: 24000000,
      href: 'Packages/k/kernel-devel-4.18.0-553.el8_10.x86_64.rpm',
    }]);
  });

  it('refuses hostile or unverifiable entries', () => {
    for (const bad of [pkg('kernel-devel', '../../../etc/passwd.rpm'), pkg('kernel-devel', '/abs/x.rpm'), pkg('kernel-devel', 'Packages/k/x.rpm', 'sha1')]) {
      assert.throws(() => parsePrimary(primary(bad), new Set(['kernel-devel']), 'p'), ArchiveError);
    }
    const based = pkg('kernel-devel', 'Packages/k/x.rpm').replace('<location href', '<location xml:base="http://elsewhere.invalid/" href');
    assert.throws(() => parsePrimary(primary(based), new Set(['kernel-devel']), 'p'), /xml:base/);
  });
});
