import { z } from 'zod';

/**
 * index.json: the contract between the farm that writes it and every agent
 * that reads it. The loader owns it so that agents need nothing of the farm.
 */
export const INDEX_SCHEMA_VERSION = 1;

export const IndexArch = z.enum(['x86_64', 'arm64']);

const SafeKey = z
  .string()
  .max(512)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+~-]*(\/[A-Za-z0-9][A-Za-z0-9._+~-]*)*$/, 'a relative store key without ".." or "//"')
  .refine((key) => !key.split('/').some((part) => part === '..' || part === '.'), 'must not contain "." or ".." parts');

export const IndexKernel = z.strictObject({
  distro: z.string().regex(/^[a-z][a-z0-9]{1,31}$/),
  release: z.string().regex(/^[0-9]+\.[0-9]+(?:\.[0-9]+)?(?:[-+~_.][A-Za-z0-9]+)*$/).max(128),
  arch: IndexArch,
  version: z.string().max(128).optional(),
  /** Version of the distro package the headers came from (e.g. Debian's 6.1.176-1). */
  packageVersion: z.string().max(128).optional(),
});

export const IndexVerification = z.strictObject({
  /** How the artifact was checked: its sha256 after the build, and/or a load test. */
  method: z.enum(['sha256', 'load-host', 'qemu']),
  result: z.enum(['ok', 'failed', 'not-verifiable']),
  detail: z.string().max(4096).optional(),
});

/** A distro package an artifact was built from: provenance, and what to fetch to rebuild it by hand. */
export const IndexSourcePackage = z.strictObject({
  name: z.string().max(256),
  version: z.string().max(128),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** The per-kernel build configuration a non-CO-RE object was compiled with. */
export const IndexBuildConfig = z.strictObject({
  linuxVersionCode: z.number().int().nonnegative(),
  maxPathComponents: z.number().int().positive(),
  defines: z.record(z.string(), z.string()),
});

export const IndexArtifact = z.strictObject({
  path: SafeKey,
  probe: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  kind: z.enum(['non-core', 'core']),
  arch: IndexArch,
  /** The target kernel for non-CO-RE objects; the kernel whose BTF made vmlinux.h for CO-RE ones. */
  kernel: IndexKernel,
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  buildId: z.string().regex(/^[0-9a-f]{64}$/),
  toolchain: z.string().max(512),
  verification: z.array(IndexVerification),
  /** Header packages (non-CO-RE) or the kernel image package whose BTF made vmlinux.h (CO-RE). */
  sources: z.array(IndexSourcePackage).optional(),
  buildConfig: IndexBuildConfig.optional(),
});

export const IndexFailure = z.strictObject({
  probe: z.string(),
  kind: z.enum(['non-core', 'core']),
  arch: IndexArch,
  kernel: IndexKernel,
  code: z.string(),
  message: z.string().max(65536),
});

export const ArtifactIndex = z.strictObject({
  schemaVersion: z.literal(INDEX_SCHEMA_VERSION),
  generatedAt: z.string(),
  generator: z.string(),
  artifacts: z.array(IndexArtifact),
  failures: z.array(IndexFailure).default([]),
});

export type IndexArch = z.infer<typeof IndexArch>;
export type IndexKernel = z.infer<typeof IndexKernel>;
export type IndexArtifact = z.infer<typeof IndexArtifact>;
export type IndexSourcePackage = z.infer<typeof IndexSourcePackage>;
export type IndexBuildConfig = z.infer<typeof IndexBuildConfig>;
export type IndexFailure = z.infer<typeof IndexFailure>;
export type ArtifactIndex = z.infer<typeof ArtifactIndex>;
