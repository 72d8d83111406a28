import { z } from 'zod';

/**
 * index.json: the contract between the farm that writes it and every agent
 * that reads it. The loader owns it so that agents need nothing of the farm.
 */
export const INDEX_SCHEMA_VERSION = 4;
/**
 * Versions this loader reads: 4 added the offline CO-RE check (`coreCheck`
 * on CO-RE artifacts); 3 added the `inconclusive` verification result,
 * per-program results and verifier-log blobs; 2 added QEMU verification fields
 * and failure stages; 1 and 2 are read as is.
 */
export const READABLE_SCHEMA_VERSIONS = [1, 2, 3, 4] as const;

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

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** How a CO-RE or non-CO-RE object was loaded in a booted kernel. */
export const VerifyMode = z.enum(['non-core', 'core-kernel-btf', 'core-external-btf']);

/** One program of a QEMU-verified object: attached, loaded but not attached (and why), skipped (not loaded), or failed. */
export const IndexProgramResult = z.strictObject({
  name: z.string().max(128),
  result: z.enum(['attached', 'loaded', 'skipped', 'failed']),
  detail: z.string().max(512).optional(),
});

/** A whole verifier log in the store (content-addressed: verify/logs/<sha256>.log). */
export const IndexLogBlob = z.strictObject({
  path: SafeKey,
  size: z.number().int().nonnegative(),
  sha256: Sha256,
});

export const IndexVerification = z.strictObject({
  /** How the artifact was checked: its sha256 after the build, a load in the build host, or a boot of the target kernel. */
  method: z.enum(['sha256', 'load-host', 'qemu']),
  /**
   * qemu: `ok` loaded and attached (and passed the event check when the probe has one);
   * `failed` a verifier rejection, an attach error of a required program or a failed event check;
   * `inconclusive` the emulator stopped the proof (timeout, boot failure): never a reason to refuse the artifact;
   * `not-verifiable` this machine could not try (no QEMU, no image, `verify: false`).
   */
  result: z.enum(['ok', 'failed', 'not-verifiable', 'inconclusive']),
  detail: z.string().max(4096).optional(),
  /** qemu: the kernel booted (for CO-RE objects, one entry per kernel and mode). */
  kernel: IndexKernel.optional(),
  mode: VerifyMode.optional(),
  /** qemu: `uname -r` inside the guest, proof of which kernel ran. */
  bootedRelease: z.string().max(128).optional(),
  /** qemu, core-external-btf: the BTF handed to libbpf as btf_custom_path. */
  btfSha256: Sha256.optional(),
  /** qemu: events the attached programs counted after the guest triggered them. */
  events: z.number().int().nonnegative().optional(),
  /** qemu, failed: the tail of libbpf's and the kernel verifier's log (the whole log is `log`). */
  verifierLog: z.string().max(65536).optional(),
  /** qemu, failed: the whole log as a blob in the store. */
  log: IndexLogBlob.optional(),
  /** qemu, failed: the line that says why (the verifier's last complaint, or libbpf's error). */
  firstError: z.string().max(1024).optional(),
  /** qemu: per program (at most 512), when the object loaded or one program failed to load. */
  programs: z.array(IndexProgramResult).max(512).optional(),
  /** qemu: content id of what was verified (object, BTF, kernel image, guest loader); equal ids are not verified twice. */
  verifyId: Sha256.optional(),
  seconds: z.number().nonnegative().optional(),
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

/** A BTF file in the store (content-addressed: btf/<sha256>.btf). */
export const IndexBtfBlob = z.strictObject({
  path: SafeKey,
  size: z.number().int().nonnegative(),
  sha256: Sha256,
});

/** Where a kernel's full BTF came from (in the order kernels.yaml's btf.sources tries them). */
export const IndexBtfSource = z.strictObject({
  kind: z.enum(['image', 'dbg', 'archive']),
  /** The kernel image or debug package, for image and dbg. */
  package: IndexSourcePackage.optional(),
  /** The archive file, for archive. */
  location: z.string().max(1024).optional(),
  /** The full BTF: size and sha256 of what was minimized. */
  size: z.number().int().nonnegative(),
  sha256: Sha256,
});

/** libbpf's CO-RE relocations against the minimized BTF compared with those against the full BTF. */
export const IndexRelocationCheck = z.strictObject({
  result: z.enum(['ok', 'failed']),
  relocations: z.number().int().nonnegative(),
  detail: z.string().max(4096).optional(),
});

/**
 * External BTF made by a per-kernel job for one CO-RE object: `btf` is the
 * minimized BTF, or the full one when minimizing failed (`kind` says which).
 */
export const IndexExternalBtf = z.strictObject({
  /** The CO-RE object it serves (core/<arch>/<probe>.o) and that object's sha256 when the BTF was cut. */
  core: SafeKey,
  coreSha256: Sha256,
  kind: z.enum(['minimized', 'full']),
  btf: IndexBtfBlob,
  source: IndexBtfSource,
  relocationCheck: IndexRelocationCheck,
});

/** Per kernel without its own BTF: which blob serves which CO-RE object. */
export const IndexKernelBtf = z.strictObject({
  kernel: IndexKernel,
  objects: z.array(IndexExternalBtf.extend({ probe: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/) })),
});

/** A relocation of a CO-RE object that finds no target in a kernel's BTF and that the program can reach. */
export const IndexCoreCheckFailure = z.strictObject({
  /** libbpf's numbering: "<section>#<n>". */
  relocation: z.string().max(512),
  /** libbpf's relocation kind: byte_off, byte_sz, type_size, enumval_value, ... */
  kind: z.string().max(32),
  /** The local type ("struct module") and field path ("core_layout.base") or enumerator. */
  type: z.string().max(256),
  field: z.string().max(512),
});

/**
 * The offline CO-RE check of a CO-RE object against one kernel's full BTF
 * (no boot): `compatible` every relocation the program can reach resolves;
 * `incompatible` one does not (`failures` says which), so libbpf poisons it and
 * the verifier refuses the load; `unknown` no BTF of that kernel was found.
 */
export const IndexCoreCheck = z.strictObject({
  kernel: IndexKernel,
  result: z.enum(['compatible', 'incompatible', 'unknown']),
  /** The object checked: an entry whose sha256 is not the artifact's is stale and ignored. */
  coreSha256: Sha256,
  /** The full BTF checked against, and where it came from. */
  btfSha256: Sha256.optional(),
  btfSource: z.enum(['image', 'dbg', 'archive']).optional(),
  relocations: z.number().int().nonnegative().optional(),
  /** Unresolved relocations the program cannot reach on this kernel (behind exists checks). */
  guarded: z.number().int().nonnegative().optional(),
  failures: z.array(IndexCoreCheckFailure).max(64).optional(),
  detail: z.string().max(4096).optional(),
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
  /** Non-CO-RE records of kernels without BTF: the external BTF this job made (gathered into `kernelBtf`). */
  externalBtf: IndexExternalBtf.optional(),
  /** What the compiler printed although the build succeeded (warnings), cut at 16 KiB. */
  warnings: z.string().max(16384).optional(),
  /** CO-RE objects: the offline CO-RE check per kernel (`kbuild check`), one entry per kernel. */
  coreCheck: z.array(IndexCoreCheck).optional(),
});

export const IndexFailure = z.strictObject({
  probe: z.string(),
  kind: z.enum(['non-core', 'core']),
  /**
   * Absent: the build failed. `verify`: it built, but did not load or work in `kernel` (booted in QEMU) in `mode`.
   * `external-btf` (kind core): the external BTF that `kernel` (without BTF) needs for the CO-RE object could not be made.
   */
  stage: z.enum(['build', 'verify', 'external-btf']).optional(),
  mode: VerifyMode.optional(),
  arch: IndexArch,
  kernel: IndexKernel,
  code: z.string(),
  message: z.string().max(65536),
});

export const ArtifactIndex = z.strictObject({
  schemaVersion: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
  generatedAt: z.string(),
  generator: z.string(),
  artifacts: z.array(IndexArtifact),
  failures: z.array(IndexFailure).default([]),
  /** Kernels without their own BTF and the external BTF per CO-RE object (see IndexKernelBtf). */
  kernelBtf: z.array(IndexKernelBtf).default([]),
});

export type IndexArch = z.infer<typeof IndexArch>;
export type IndexKernel = z.infer<typeof IndexKernel>;
export type IndexVerification = z.infer<typeof IndexVerification>;
export type IndexProgramResult = z.infer<typeof IndexProgramResult>;
export type IndexLogBlob = z.infer<typeof IndexLogBlob>;
export type VerifyMode = z.infer<typeof VerifyMode>;
export type IndexArtifact = z.infer<typeof IndexArtifact>;
export type IndexSourcePackage = z.infer<typeof IndexSourcePackage>;
export type IndexBuildConfig = z.infer<typeof IndexBuildConfig>;
export type IndexFailure = z.infer<typeof IndexFailure>;
export type ArtifactIndex = z.infer<typeof ArtifactIndex>;
export type IndexExternalBtf = z.infer<typeof IndexExternalBtf>;
export type IndexKernelBtf = z.infer<typeof IndexKernelBtf>;
export type IndexBtfSource = z.infer<typeof IndexBtfSource>;
export type IndexBtfBlob = z.infer<typeof IndexBtfBlob>;
export type IndexCoreCheck = z.infer<typeof IndexCoreCheck>;
export type IndexCoreCheckFailure = z.infer<typeof IndexCoreCheckFailure>;
