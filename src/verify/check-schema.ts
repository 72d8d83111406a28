import { z } from 'zod';
import { AttachTarget, MapEntryCount, MapName, ProgramGlob } from '../config/probe-schema.js';
import { ARCHES } from '../kernel/identity.js';
import { INNER_MAP_TYPES, PROGRAM_TYPES, TRIGGERS } from './policy-names.js';

/**
 * A ProbeCheck (src/verify/types.ts) as it travels in a farm job: a worker
 * takes it from Redis, not from a kernels file it checked, so every name
 * that reaches the guest's manifest is checked again here.
 */
const Globs = z.array(ProgramGlob).max(64);
const MODES = ['non-core', 'core-kernel-btf', 'core-external-btf'] as const;

export const ProbeCheckSchema = z.strictObject({
  event: z.strictObject({ trigger: z.enum(TRIGGERS), count: z.number().int().min(1).max(1000), counterMap: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/) }).optional(),
  attachSkip: Globs.optional(),
  attachOptional: Globs.optional(),
        attachOnly: Globs.optional(),
  autoloadDisable: Globs.optional(),
        autocreateDisable: Globs.optional(),
  autoloadOptional: Globs.optional(),
  maps: z
    .array(
      z.strictObject({
        name: MapName,
        maxEntries: MapEntryCount.optional(),
        inner: z
          .strictObject({ type: z.enum(INNER_MAP_TYPES), keySize: z.number().int().min(0).max(512), valueSize: z.number().int().min(0).max(65536), maxEntries: MapEntryCount })
          .optional(),
      }),
    )
    .max(64)
    .optional(),
  programTypes: z.array(z.strictObject({ programs: ProgramGlob, type: z.enum(PROGRAM_TYPES) })).max(64).optional(),
  attachTargets: z.array(z.strictObject({ programs: ProgramGlob, target: AttachTarget })).max(64).optional(),
  kernels: z
    .array(
      z.strictObject({
        when: z.string().regex(/^(<|<=|>|>=|==)\s*[0-9]+\.[0-9]+(\.[0-9]+)?$/).optional(),
        arch: z.enum(ARCHES).optional(),
        attachSkip: Globs.optional(),
        attachOptional: Globs.optional(),
        attachOnly: Globs.optional(),
        autoloadDisable: Globs.optional(),
        autocreateDisable: Globs.optional(),
        autoloadOptional: Globs.optional(),
        mode: z.enum(MODES).optional(),
        verify: z.literal(false).optional(),
      }),
    )
    .max(32)
    .optional(),
});
