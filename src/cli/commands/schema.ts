import { z } from 'zod';
import { KernelsFile } from '../../config/kernels-schema.js';
import { kernelsReference, type JsonSchema } from '../../config/kernels-reference.js';
import { ConfigError } from '../../errors.js';
import { ArtifactIndex } from '@kbuild/loader';

export function kernelsJsonSchema(): unknown {
  return { ...z.toJSONSchema(KernelsFile, { io: 'input' }), title: 'kbuild kernels file' };
}

export function indexJsonSchema(): unknown {
  return { ...z.toJSONSchema(ArtifactIndex, { io: 'input' }), title: 'kbuild index' };
}

/** JSON Schema (for editors and validators), or the kernels.yaml field reference as Markdown tables. */
export function schemaCommand(opts: { of: 'kernels' | 'index'; format?: 'json' | 'markdown' }): number {
  if (opts.format === 'markdown') {
    if (opts.of !== 'kernels') throw new ConfigError('--format markdown: only the kernels file has a generated reference (the index format is docs/index-format.md)');
    process.stdout.write(kernelsReference(kernelsJsonSchema() as JsonSchema));
    return 0;
  }
  const schema = opts.of === 'kernels' ? kernelsJsonSchema() : indexJsonSchema();
  process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
  return 0;
}
