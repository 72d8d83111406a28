/**
 * docs/kernels-yaml.md against an independent reading of docs/kernels.schema.json
 * (the file `kbuild schema` writes; test/cli/schema.test.ts keeps it current):
 * this walks the JSON Schema itself and parses the page's Markdown tables, sharing
 * no code with the generator, so a bug in the generator and its staleness test
 * (the old `$\``-in-a-replacement one that pasted the preamble into every regex
 * cell) cannot hide.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';

interface Node {
  type?: string;
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  anyOf?: Node[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  pattern?: string;
  description?: string;
  propertyNames?: Node;
  additionalProperties?: Node | boolean;
}

interface Row {
  readonly cells: string[];
  readonly line: number;
}

/** Sections of the page: heading (without `### ` and backticks) → rows by field name. */
function parseTables(page: string): Map<string, Map<string, Row>> {
  const sections = new Map<string, Map<string, Row>>();
  let current: Map<string, Row> | undefined;
  page.split('\n').forEach((line, i) => {
    const heading = /^### (.*)$/.exec(line);
    if (heading !== null) {
      current = new Map();
      sections.set(heading[1]!.replace(/`/g, ''), current);
      return;
    }
    if (current === undefined || !line.startsWith('| `')) return;
    // Cells split on pipes a backslash does not escape.
    const cells = line.slice(2, -2).split(/(?<!\\) \| /);
    current.set(cells[0]!.replace(/`/g, ''), { cells, line: i + 1 });
  });
  return sections;
}

const isObject = (n: Node): boolean => n.type === 'object' && n.properties !== undefined;

/** Every object of the schema with its path, found by walking the JSON Schema. */
function objects(node: Node, path: string, out: { path: string; node: Node }[]): void {
  if (isObject(node)) {
    out.push({ path, node });
    for (const [name, field] of Object.entries(node.properties!)) objects(field, path === '' ? name : `${path}.${name}`, out);
    return;
  }
  if (node.items !== undefined) objects(node.items, `${path}[]`, out);
  if (typeof node.additionalProperties === 'object') objects(node.additionalProperties, `${path}.<*>`, out);
  for (const alt of node.anyOf ?? []) objects(alt, path, out);
}

/** Patterns and enum values of a field, down to (not into) the next object, which has its own table. */
function constraints(node: Node, out: { patterns: string[]; values: string[] }): void {
  if (node.pattern !== undefined) out.patterns.push(node.pattern);
  for (const v of node.enum ?? []) out.values.push(String(v));
  if (node.const !== undefined) out.values.push(JSON.stringify(node.const));
  if (isObject(node)) return;
  if (node.items !== undefined) constraints(node.items, out);
  if (node.propertyNames !== undefined) constraints(node.propertyNames, out);
  if (typeof node.additionalProperties === 'object') constraints(node.additionalProperties, out);
  for (const alt of node.anyOf ?? []) constraints(alt, out);
}

/** How Markdown table cells carry a code span's text: only the pipe is escaped. */
const inCell = (code: string): string => `\`${code.replace(/\|/g, '\\|')}\``;

describe('docs/kernels-yaml.md against the JSON Schema, read independently', () => {
  let page: string;
  let schema: Node;
  let tables: Map<string, Map<string, Row>>;
  before(async () => {
    page = await readFile(join(REPO_ROOT, 'docs/kernels-yaml.md'), 'utf8');
    schema = JSON.parse(await readFile(join(REPO_ROOT, 'docs/kernels.schema.json'), 'utf8')) as Node;
    tables = parseTables(page);
  });

  it('has a table for every object of the schema, a row per field and no other row', () => {
    const found: { path: string; node: Node }[] = [];
    objects(schema, '', found);
    assert.ok(found.length >= 10, `only ${found.length} objects in the schema`);
    for (const { path, node } of found) {
      const wanted = path === '' ? /^Top level$/ : new RegExp(`^${path.replace(/[.[\]]/g, '\\$&').replace(/<\\\*>/g, '<[a-z]+>').replace(/\\\.<\*>/g, '\\.<[a-z]+>')}( \\(.*\\))?$`);
      const candidates = [...tables.entries()].filter(([heading]) => wanted.test(heading.replace(/<\*>/g, '')));
      // Several object forms of one field: the one whose rows are this form's fields.
      const names = Object.keys(node.properties!).sort();
      const match = candidates.find(([, rows]) => JSON.stringify([...rows.keys()].sort()) === JSON.stringify(names));
      assert.ok(match, `no table for ${path || 'the top level'} with rows ${names.join(', ')} (headings matching: ${candidates.map(([h]) => h).join('; ') || 'none'})`);
      const rows = match[1];
      const required = new Set(node.required ?? []);
      for (const [name, field] of Object.entries(node.properties!)) {
        const row = rows.get(name)!;
        const [, type = '', req = '', dflt = '', description = ''] = row.cells;
        const where = `${path || '(top)'}.${name} (line ${row.line})`;
        assert.equal(req, required.has(name) ? 'yes' : 'no', `${where}: required`);
        assert.equal(dflt, field.default === undefined ? '' : `\`${JSON.stringify(field.default)}\``, `${where}: default`);
        const c = { patterns: [] as string[], values: [] as string[] };
        constraints(field, c);
        for (const pattern of c.patterns) assert.ok(type.includes(inCell(pattern)), `${where}: type cell lacks pattern ${pattern}: ${type}`);
        for (const value of c.values) assert.ok(type.includes(value), `${where}: type cell lacks ${value}: ${type}`);
        if (c.patterns.length === 0 && c.values.length === 0 && ['string', 'integer', 'boolean', 'number'].includes(field.type ?? '')) {
          assert.ok(type.includes(field.type!) || (field.type === 'string' && type === 'URL'), `${where}: type ${field.type}, cell says ${type}`);
        }
        const text = (field.description ?? field.items?.description ?? '').replace(/\s+/g, ' ').trim();
        const shown = description.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/\\\|/g, '|');
        assert.equal(shown, text, `${where}: description`);
      }
    }
  });

  it('keeps the page\'s preamble out of every cell, and has it once', () => {
    const preamble = ['# kernels.yaml reference', 'GENERATED from docs/src/kernels-yaml.in.md', 'yaml-language-server'];
    for (const line of preamble) assert.equal(page.split(line).length - 1, 1, `"${line}" appears ${page.split(line).length - 1} times`);
    for (const [heading, rows] of tables) {
      for (const [name, row] of rows) {
        assert.ok(row.cells.length === 5, `${heading} ${name} (line ${row.line}): ${row.cells.length} cells`);
        for (const cell of row.cells) assert.ok(cell.length < 600 && !cell.includes('kernels.yaml reference'), `${heading} ${name} (line ${row.line}): a cell holds page text`);
      }
    }
  });
});
