import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';

describe('kbuild schema', () => {
  for (const [of, file] of [['kernels', 'docs/kernels.schema.json'], ['index', 'docs/index.schema.json']] as const) {
    it(`prints the ${of} JSON Schema, and ${file} is up to date (npm run docs:schema)`, async () => {
      const result = await kbuild(['schema', '--of', of]);
      assert.equal(result.exitCode, 0, result.stderr);
      const schema = JSON.parse(result.stdout) as { type: string; properties: Record<string, unknown>; additionalProperties: boolean };
      assert.equal(schema.type, 'object');
      assert.equal(schema.additionalProperties, false, 'unknown fields are flagged by editors too');
      assert.equal(`${result.stdout}\n`, await readFile(join(REPO_ROOT, file), "utf8"));
    });
  }

  it('describes kernels with their required fields and release pattern', async () => {
    const schema = JSON.parse((await kbuild(['schema'])).stdout) as {
      properties: { kernels: { items: { required: string[]; properties: { arch: { enum: string[] } } } } };
    };
    assert.deepEqual(schema.properties.kernels.items.required.sort(), ['arch', 'distro', 'release']);
    assert.deepEqual(schema.properties.kernels.items.properties.arch.enum, ['x86_64', 'arm64']);
  });
});
