import assert from 'node:assert/strict';
import { access, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';

async function pages(): Promise<string[]> {
  const docs = (await readdir(join(REPO_ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => join(REPO_ROOT, 'docs', f));
  return [...docs, join(REPO_ROOT, 'README.md')];
}

describe('docs pages', () => {
  it('exist for every topic of the documentation index', async () => {
    for (const page of ['kernels-yaml.md', 'index-format.md', 'artifact-layout.md', 'adding-a-builder.md', 'consuming-artifacts.md', 'examples/github-actions-release.yml']) {
      await access(join(REPO_ROOT, 'docs', page));
      assert.match(await readFile(join(REPO_ROOT, 'docs/README.md'), 'utf8'), new RegExp(`\\]\\(${page.replace(/[.]/g, '\\.')}\\)`), `docs/README.md links ${page}`);
      assert.match(await readFile(join(REPO_ROOT, 'README.md'), 'utf8'), new RegExp(`\\]\\(docs/${page.replace(/[.]/g, '\\.')}\\)`), `README.md links docs/${page}`);
    }
  });

  it('link only to files that exist', async () => {
    for (const page of await pages()) {
      const text = await readFile(page, 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)) {
        if (target === undefined || /^[a-z]+:/.test(target)) continue;
        await access(join(dirname(page), target)).catch(() => assert.fail(`${page}: broken link ${target}`));
      }
    }
  });

  it('show JSON examples that are JSON', async () => {
    for (const page of await pages()) {
      const text = await readFile(page, 'utf8');
      for (const [, block] of text.matchAll(/```json\n([\s\S]*?)```/g)) {
        assert.doesNotThrow(() => JSON.parse(block ?? ''), `${page}: a json block does not parse:\n${block}`);
      }
    }
  });
});
