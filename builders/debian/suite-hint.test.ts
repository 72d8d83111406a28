import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { releaseHint, searchOrder } from './suite-hint.js';
import { DEFAULT_SUITES } from './suites.js';

const suites = DEFAULT_SUITES.map((suite) => ({ suite, mirror: suite.endsWith('-security') ? 'http://security.invalid' : 'http://main.invalid' }));

describe('the Debian release a kernel release string names', () => {
  it('reads the number of +debNN and -0.debNN, and the upstream version of a stable kernel', () => {
    assert.equal(releaseHint('6.12.117+deb13-amd64'), 'trixie');
    assert.equal(releaseHint('6.12.95+deb12-cloud-amd64'), 'bookworm');
    assert.equal(releaseHint('7.2.13+deb14-arm64'), 'forky');
    assert.equal(releaseHint('6.1.0-0.deb11.31-amd64'), 'bullseye');
    assert.equal(releaseHint('6.1.0-57-amd64'), 'bookworm');
    assert.equal(releaseHint('5.10.0-46-cloud-amd64'), 'bullseye');
    assert.equal(releaseHint('9.9.0-1-amd64'), undefined);
  });

  it('searches the hinted release first, then every other suite in the configured order', () => {
    const order = searchOrder(suites, '6.12.117+deb13-amd64').map((s) => s.suite);
    assert.deepEqual(order.slice(0, 4), ['trixie', 'trixie-security', 'trixie-updates', 'trixie-backports']);
    assert.deepEqual([...order].sort(), [...DEFAULT_SUITES].sort());
    assert.deepEqual(order.slice(4), DEFAULT_SUITES.filter((s) => !s.startsWith('trixie')));
    assert.deepEqual(searchOrder(suites, '9.9.0-1-amd64'), suites);
  });
});
