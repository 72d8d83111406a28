import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { ConfigError } from '../errors.js';

/**
 * The project's one handlebars wrapper. Templates that render C and shell
 * (renderTemplate) keep escaping off (noEscape); instead every value is
 * validated before it reaches a template. HTML templates (renderHtmlTemplate)
 * escape every `{{value}}`. Strict mode turns a missing field into an error
 * rather than an empty string in either.
 */

const TEMPLATE_NAME = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9]+)*$/;
export const DEFINE_NAME = /^[A-Z_][A-Z0-9_]*$/;
export const DEFINE_VALUE = /^(-?[0-9]+|[A-Za-z_][A-Za-z0-9_]*)$/;

const handlebars = Handlebars.create();
type CompileOptions = { noEscape: boolean; strict: true };
const compiled = new Map<string, Promise<Handlebars.TemplateDelegate>>();
const compiledHtml = new Map<string, Promise<Handlebars.TemplateDelegate>>();

/** templates/ beside package.json, found by walking up so src/ (tsx) and dist/src/ (built) both work. */
export function templatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'templates');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package root (package.json) not found above the template module');
    dir = parent;
  }
}

/** The raw template text, e.g. for hashing into build ids. */
export async function templateText(name: string): Promise<string> {
  if (!TEMPLATE_NAME.test(name)) throw new Error(`invalid template name: ${JSON.stringify(name)}`);
  return readFile(join(templatesDir(), `${name}.hbs`), 'utf8');
}

export async function renderTemplate(name: string, context: Record<string, unknown>): Promise<string> {
  assertSafeStrings(context, name);
  return (await compile(compiled, name, { noEscape: true, strict: true }))(context);
}

/**
 * An HTML page: every `{{value}}` is HTML-escaped (text and quoted attributes
 * alike), so strings from an index cannot open a tag. Only values the caller
 * made safe itself (e.g. JSON escaped for a script element) may use `{{{ }}}`.
 */
export async function renderHtmlTemplate(name: string, context: Record<string, unknown>): Promise<string> {
  return (await compile(compiledHtml, name, { noEscape: false, strict: true }))(context);
}

function compile(cache: Map<string, Promise<Handlebars.TemplateDelegate>>, name: string, options: CompileOptions): Promise<Handlebars.TemplateDelegate> {
  let template = cache.get(name);
  if (template === undefined) {
    template = templateText(name).then((text) => handlebars.compile(text, options));
    cache.set(name, template);
    // A failed load must not poison the cache for the next caller.
    template.catch(() => cache.delete(name));
  }
  return template;
}

/** Throws a ConfigError unless `name` is a C macro name and `value` an integer or a C identifier. */
export function checkDefine(name: string, value: string | number): string {
  if (!DEFINE_NAME.test(name)) {
    throw new ConfigError(`define name ${JSON.stringify(name)} is not an upper-case C macro name (${DEFINE_NAME.source})`);
  }
  const text = typeof value === 'number' ? (Number.isSafeInteger(value) ? String(value) : '') : value;
  if (!DEFINE_VALUE.test(text)) {
    throw new ConfigError(`define ${name}: value ${JSON.stringify(value)} is not an integer or a C identifier`);
  }
  return text;
}

/**
 * A line break or NUL in any value would let it start its own preprocessor
 * line in generated C; refuse those whatever the template.
 */
function assertSafeStrings(value: unknown, template: string, path = 'context'): void {
  if (typeof value === 'string') {
    if (/[\0\r\n\u2028\u2029]/.test(value)) {
      throw new ConfigError(`template ${template}: ${path} contains a line break or NUL`);
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => assertSafeStrings(item, template, `${path}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) assertSafeStrings(item, template, `${path}.${key}`);
  }
}
