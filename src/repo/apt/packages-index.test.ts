import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDepends, parseKernelStanzas } from './packages-index.js';

const SHA = 'a'.repeat(64);

// Shaped like the real bookworm binary-amd64 index (fields trimmed).
const PACKAGES = `Package: bash
Version: 5.2.15-2+b7
Architecture: amd64
Filename: pool/main/b/bash/bash_5.2.15-2+b7_amd64.deb
Size: 1
SHA256: ${SHA}

Package: linux-headers-6.1.0-50-cloud-amd64
Source: linux
Version: 6.1.176-1
Installed-Size: 2639
Architecture: amd64
Depends: linux-headers-6.1.0-50-common (= 6.1.176-1), linux-kbuild-6.1 (>= 6.1.176-1), linux-compiler-gcc-12-x86
Description: Header files for Linux 6.1.0-50-cloud-amd64
 This package provides the architecture-specific kernel header files.
Filename: pool/main/l/linux/linux-headers-6.1.0-50-cloud-amd64_6.1.176-1_amd64.deb
Size: 1440280
SHA256: ${SHA.toUpperCase()}

Package: linux-image-6.1.0-50-cloud-amd64-unsigned
Version: 6.1.176-1
Architecture: amd64
Filename: ../../etc/passwd.deb
Size: 10
SHA256: ${SHA}

Package: linux-headers-broken
Version: 1
Architecture: amd64
Filename: pool/main/l/linux/x.deb
Size: many
SHA256: ${SHA}
`;

describe('Packages index parsing', () => {
  it('keeps complete kernel stanzas and lower-cases the hash', () => {
    const stanzas = parseKernelStanzas(PACKAGES);
    assert.deepEqual(stanzas, [
      {
        package: 'linux-headers-6.1.0-50-cloud-amd64',
        version: '6.1.176-1',
        architecture: 'amd64',
        depends: 'linux-headers-6.1.0-50-common (= 6.1.176-1), linux-kbuild-6.1 (>= 6.1.176-1), linux-compiler-gcc-12-x86',
        filename: 'pool/main/l/linux/linux-headers-6.1.0-50-cloud-amd64_6.1.176-1_amd64.deb',
        size: 1440280,
        sha256: SHA,
      },
    ]);
  });

  it('parses Depends with versions, alternatives and arch qualifiers', () => {
    const deps = parseDepends(
      'linux-base (>= 4.12~), linux-headers-6.12.117+deb13-common (= 6.12.117-1), linux-image-x (= 1) | linux-image-x-unsigned (= 1), gcc-14:amd64',
    );
    assert.deepEqual(deps, [
      [{ name: 'linux-base', relation: '>=', version: '4.12~' }],
      [{ name: 'linux-headers-6.12.117+deb13-common', relation: '=', version: '6.12.117-1' }],
      [
        { name: 'linux-image-x', relation: '=', version: '1' },
        { name: 'linux-image-x-unsigned', relation: '=', version: '1' },
      ],
      [{ name: 'gcc-14' }],
    ]);
  });
});
