// Writes docs/kernels-yaml.md: the hand-written page docs/src/kernels-yaml.in.md with the
// field reference generated from the kernels.yaml zod schema. Run through `npm run docs:schema`
// (which compiles first); test/docs/kernels-yaml-doc.test.ts fails when the page is stale.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { kernelsReferencePage } from '../dist/src/config/kernels-reference.js';
import { kernelsJsonSchema } from '../dist/src/cli/commands/schema.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const template = await readFile(`${root}docs/src/kernels-yaml.in.md`, 'utf8');
await writeFile(`${root}docs/kernels-yaml.md`, kernelsReferencePage(template, kernelsJsonSchema()));
