import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobKindOf, queueJobName } from '../queue/job-name.js';
import { withoutExternalResources } from './offline-page.js';

describe('withoutExternalResources', () => {
  it('drops stylesheets and scripts from other hosts, keeps the page\'s own and plain links', () => {
    const page = [
      '<link rel="icon" href="static/favicon.png">',
      '<link href="https://fonts.googleapis.com/css2?family=X" rel="stylesheet">',
      '<script src="//cdn.example.invalid/x.js"></script>',
      '<link href="static/css/main.css" rel="stylesheet">',
      '<a href="https://github.com/x">version</a>',
    ].join('\n');
    const out = withoutExternalResources(page);
    assert.doesNotMatch(out, /fonts\.googleapis|cdn\.example/);
    assert.match(out, /static\/css\/main\.css/);
    assert.match(out, /static\/favicon\.png/);
    assert.match(out, /<a href="https:\/\/github.com\/x">/);
  });

  it('refuses a page that would still load from outside in a way it does not know', () => {
    assert.throws(() => withoutExternalResources('<img src="https://tracker.invalid/p.gif">'), { code: 'E_DASHBOARD_PAGE' });
  });
});

describe('queue job names', () => {
  it('start with the kind the worker dispatches on, old bare names included', () => {
    assert.equal(queueJobName('build', 'execve debian 6.1.0-47-cloud-amd64 x86_64'), 'build execve debian 6.1.0-47-cloud-amd64 x86_64');
    assert.equal(jobKindOf('build execve debian 6.1.0-47-cloud-amd64 x86_64'), 'build');
    assert.equal(jobKindOf('verify debian 6.1.0-47-cloud-amd64 x86_64'), 'verify');
    assert.equal(jobKindOf('publish'), 'publish');
    assert.equal(jobKindOf('builder x'), undefined);
  });
});
