/**
 * The kernels.yaml reference in Markdown, generated from the JSON Schema of
 * the zod schema (kernels-schema.ts) so the field list, types, defaults and
 * descriptions cannot drift from what the loader accepts. docs/kernels-yaml.md
 * is this output inside a hand-written page (docs/src/kernels-yaml.in.md);
 * `npm run docs:schema` writes it and a test fails when it is stale.
 */

export interface JsonSchema {
  readonly type?: string;
  readonly description?: string;
  readonly properties?: Record<string, JsonSchema>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly default?: unknown;
  readonly pattern?: string;
  readonly format?: string;
  readonly minItems?: number;
  readonly propertyNames?: JsonSchema;
  readonly additionalProperties?: JsonSchema | boolean;
}

/** Marker in the hand-written page that the generated reference replaces. */
export const REFERENCE_MARKER = '<!-- kbuild:kernels-reference -->';

/** A section per object of the file: the top level, then each nested object, in schema order. */
export function kernelsReference(schema: JsonSchema): string {
  const sections: string[] = [];
  collect(schema, '(top level)', sections);
  return sections.join('\n');
}

/** The hand-written page with the generated reference in place of its marker. */
export function kernelsReferencePage(template: string, schema: JsonSchema): string {
  if (!template.includes(REFERENCE_MARKER)) throw new Error(`the page template has no ${REFERENCE_MARKER} line`);
  // A function replacement: the reference holds regexes whose "$`" and "$&" a string replacement would expand.
  return template.replace(REFERENCE_MARKER, () => kernelsReference(schema).trimEnd());
}

function collect(node: JsonSchema, path: string, out: string[], form?: string): void {
  const object = objectOf(node);
  if (object?.properties === undefined) return;
  const required = new Set(object.required ?? []);
  const rows = Object.entries(object.properties).map(([name, field]) => {
    const cells = [`\`${name}\``, text(typeOf(field)), required.has(name) ? 'yes' : 'no', field.default === undefined ? '' : `\`${JSON.stringify(field.default)}\``, text(describe(field))];
    return `| ${cells.join(' | ')} |`;
  });
  const heading = path === '(top level)' ? 'Top level' : `\`${path}\`${form === undefined ? '' : ` (${form})`}`;
  const about = path === '(top level)' ? '' : describe(node);
  out.push(`### ${heading}\n`);
  if (about !== '') out.push(`${text(about)}\n`);
  out.push(['| field | type | required | default | description |', '| --- | --- | --- | --- | --- |', ...rows, ''].join('\n'));
  for (const [name, field] of Object.entries(object.properties)) nested(field, path === '(top level)' ? name : `${path}.${name}`, out);
}

/** The objects a field holds: itself, its items, its record values, or each object among its alternatives (anyOf). */
function nested(node: JsonSchema, path: string, out: string[], form?: string): void {
  if (objectOf(node) !== undefined) collect(node, path, out, form);
  else if (node.type === 'array' && node.items !== undefined) nested(node.items, `${path}[]`, out);
  else if (isRecord(node) && typeof node.additionalProperties === 'object') nested(node.additionalProperties, `${path}.<${keyName(node)}>`, out);
  else if (node.anyOf !== undefined) {
    const objects = node.anyOf.filter((alt) => objectOf(alt) !== undefined);
    for (const alt of node.anyOf) nested(alt, path, out, objects.length > 1 && objectOf(alt) !== undefined ? formOf(alt) : undefined);
  }
}

/** Which of several object forms a section is: named by the field that form requires first. */
function formOf(object: JsonSchema): string {
  const key = object.required?.[0] ?? Object.keys(object.properties ?? {})[0] ?? '';
  return `the form with \`${key}\``;
}

/** The object behind a node, also when it is an array's items or a record's values. */
function objectOf(node: JsonSchema): JsonSchema | undefined {
  return node.type === 'object' && node.properties !== undefined ? node : undefined;
}

function isRecord(node: JsonSchema): boolean {
  return node.type === 'object' && node.properties === undefined && node.additionalProperties !== undefined;
}

function keyName(record: JsonSchema): string {
  const keys = record.propertyNames;
  if (keys?.enum !== undefined && keys.enum.every((k) => k === 'x86_64' || k === 'arm64')) return 'arch';
  if (keys?.enum !== undefined || keys?.pattern !== undefined) return 'distro';
  return 'key';
}

function describe(node: JsonSchema): string {
  return node.description ?? node.items?.description ?? '';
}

function typeOf(node: JsonSchema): string {
  if (node.anyOf !== undefined) return node.anyOf.map(typeOf).join(' or ');
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (node.enum !== undefined) return `one of ${node.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  if (node.type === 'array') {
    const item = node.items === undefined ? 'any' : objectOf(node.items) !== undefined ? 'object' : typeOf(node.items);
    return `list of ${item}${node.minItems !== undefined && node.minItems > 0 ? ` (at least ${node.minItems})` : ''}`;
  }
  if (isRecord(node) && typeof node.additionalProperties === 'object') {
    const keys = node.propertyNames === undefined ? 'string' : typeOf(node.propertyNames);
    const values = objectOf(node.additionalProperties) !== undefined ? 'object' : typeOf(node.additionalProperties);
    return `map: ${keys} → ${values}`;
  }
  if (node.type === 'string' && node.format === 'uri') return 'URL';
  if (node.type === 'string' && node.pattern !== undefined) return `string matching \`${node.pattern}\``;
  return node.type ?? 'any';
}

/** Table cells: no line breaks, no bare pipes, and `<name>` outside code spans shown, not taken for HTML. */
function text(value: string): string {
  return value
    .replace(/\s*\n\s*/g, ' ')
    .split('`')
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('`')
    .replace(/\|/g, '\\|');
}
