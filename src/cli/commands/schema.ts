import { z } from 'zod';
import { KernelsFile } from '../../config/kernels-schema.js';
import { ArtifactIndex } from '../../loader/index-schema.js';

export function kernelsJsonSchema(): unknown {
  return { ...z.toJSONSchema(KernelsFile, { io: 'input' }), title: 'kbuild kernels file' };
}

export function schemaCommand(opts: { of: 'kernels' | 'index' }): number {
  const schema = opts.of === 'kernels' ? kernelsJsonSchema() : { ...z.toJSONSchema(ArtifactIndex, { io: 'input' }), title: 'kbuild index' };
  process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
  return 0;
}
