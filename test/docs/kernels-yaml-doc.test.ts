import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { kernelsJsonSchema } from '../../src/cli/commands/schema.js';
import { KernelsFile } from '../../src/config/kernels-schema.js';
import { kernelsReference, kernelsReferencePage, REFERENCE_MARKER, type JsonSchema } from '../../src/config/kernels-reference.js';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';

const page = (): Promise<string> => readFile(join(REPO_ROOT, 'docs/kernels-yaml.md'), 'utf8');

describe('docs/kernels-yaml.md', () => {
  it('is what `npm run docs:schema` generates from the schema today (regenerate it when this fails)', async () => {
    const template = await readFile(join(REPO_ROOT, 'docs/src/kernels-yaml.in.md'), 'utf8');
    const expected = kernelsReferencePage(template, kernelsJsonSchema() as JsonSchema);
    assert.equal(await page(), expected, 'docs/kernels-yaml.md is stale: run `npm run docs:schema`');
  });

  it('has a table row, with the schema\'s description, for every field of every object', async () => {
    const text = await page();
    assert.ok(!text.includes(REFERENCE_MARKER));
    const schema = kernelsJsonSchema() as JsonSchema;
    const kernel = (schema.properties?.['kernels']?.items ?? {}) as JsonSchema;
    for (const [name, field] of Object.entries(kernel.properties ?? {})) {
      assert.ok(field.description !== undefined && field.description !== '', `kernels[].${name} has no description in the schema`);
      assert.ok(text.includes(`| \`${name}\` |`), `no row for kernels[].${name}`);
    }
    for (const name of Object.keys(schema.properties ?? {})) {
      assert.ok(schema.properties?.[name]?.description !== undefined, `${name} has no description in the schema`);
      assert.ok(text.includes(`| \`${name}\` |`), `no row for ${name}`);
    }
    for (const heading of ['### `probes[]`', '### `probes[].tweaks[]`', '### `kernels[]`', '### `core.btfFrom.<arch>`', '### `btf`']) {
      assert.ok(text.includes(heading), `no section ${heading}`);
    }
  });

  it('has only examples the schema accepts', async () => {
    const blocks = [...(await page()).matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    assert.ok(blocks.length >= 3, `expected several yaml examples, found ${blocks.length}`);
    for (const block of blocks) {
      const result = KernelsFile.safeParse(parse(block));
      assert.ok(result.success, `example does not validate:\n${block}\n${JSON.stringify(result.error?.issues)}`);
    }
  });

  it('escapes what a Markdown table would break on', () => {
    const md = kernelsReference({
      type: 'object',
      properties: { a: { type: 'string', pattern: '^(x|y)$', description: 'a <folder>/<name> path' } },
      required: ['a'],
    });
    assert.match(md, /\| `a` \| string matching `\^\(x\\\|y\)\$` \| yes \| {2}\| a &lt;folder&gt;\/&lt;name&gt; path \|/);
  });

  it('`kbuild schema --format markdown` prints the reference tables; the index has none', async () => {
    const result = await kbuild(['schema', '--format', 'markdown']);
    assert.equal(result.exitCode, 0, result.stderr);
    // execa strips the final newline.
    assert.equal(result.stdout, kernelsReference(kernelsJsonSchema() as JsonSchema).trimEnd());
    const index = await kbuild(['schema', '--of', 'index', '--format', 'markdown']);
    assert.equal(index.exitCode, 2);
    assert.match(index.stderr, /only the kernels file/);
  });
});
