import type { Arch, KernelIdentity } from '../src/kernel/identity.js';

/** Header trees a non-CO-RE compile includes, in kbuild's own order. */
export interface HeaderTrees {
  /** Trees holding generated files and .config (Debian: linux-headers-<release>). */
  readonly flavour: string;
  /** Trees holding the sources (Debian: linux-headers-<abi>-common); may equal flavour. */
  readonly common: string;
  /** Contents of include/generated/uapi/linux/version.h's LINUX_VERSION_CODE, when present. */
  readonly versionCode?: number;
}

export interface FetchedHeaders {
  readonly kernel: KernelIdentity;
  readonly trees: HeaderTrees;
  /** Package names, versions and sha256 that produced the trees (recorded in the index); the kernel's own (flavour) package first. */
  readonly packages: readonly PackageRef[];
  /** True when nothing had to be downloaded. */
  readonly fromCache: boolean;
}

export interface PackageRef {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly suite?: string;
}

/**
 * A kernel's build tree, as `make -C <buildDir> M=<probe>` needs it: the
 * headers plus the host tools of the kernel's own build system (fixdep,
 * modpost), laid out so every link resolves inside one folder.
 */
export interface FetchedBuildTree {
  readonly kernel: KernelIdentity;
  /** The folder to pass as `make -C` (Debian: usr/src/linux-headers-<release> inside the tree). */
  readonly buildDir: string;
  /** The folder holding everything buildDir reaches (what an executor must mount read-only). */
  readonly root: string;
  /** Headers, common headers, then the build-system tools (Debian: linux-kbuild-<ver> of the build machine's arch). */
  readonly packages: readonly PackageRef[];
  readonly fromCache: boolean;
}

export interface FetchedImage {
  readonly kernel: KernelIdentity;
  /** The kernel image file (bzImage on x86_64, raw Image on arm64). */
  readonly path: string;
  readonly package: PackageRef;
  readonly fromCache: boolean;
}

/** A debug package holding the kernel's vmlinux with DWARF (for `pahole -J`). */
export interface FetchedDebugPackage {
  readonly kernel: KernelIdentity;
  /** The package file (.deb, ...), verified against the archive's checksums. */
  readonly path: string;
  /** Path of the vmlinux inside the package's payload, e.g. usr/lib/debug/boot/vmlinux-<release>. */
  readonly vmlinuxMember: string;
  readonly package: PackageRef;
  readonly fromCache: boolean;
}

export interface BuilderContext {
  readonly cacheDir: string;
  /** Per-distro mirror override from configuration. */
  readonly mirror?: string;
  readonly signal?: AbortSignal;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** One kernel a distro's repositories offer, as `kbuild crawl` lists it. */
export interface CrawledKernel {
  readonly release: string;
  readonly arch: Arch;
  /** kernels.yaml's `version` when the builder needs one to pick the right build (Ubuntu's build number). */
  readonly version?: string;
  /** Version of the header package, e.g. 6.1.176-1 or 4.18.0-553.el8_10. */
  readonly packageVersion: string;
  /** Where it was found: a suite or a repository URL. */
  readonly source: string;
}

export interface CrawlOptions {
  readonly arch: Arch;
}

/** One per distro family, registered in builders/registry.ts. */
export interface DistroBuilder {
  readonly distro: string;
  readonly arches: readonly Arch[];
  /** A human description of which releases of the distro are covered. */
  readonly covers: string;
  fetchHeaders(kernel: KernelIdentity, context: BuilderContext): Promise<FetchedHeaders>;
  /** Whether fetchImage works (kernel images give CO-RE its BTF); when false it rejects with NotSupportedError. Optional so existing builders and test doubles stay valid. */
  readonly supportsImages?: boolean;
  fetchImage(kernel: KernelIdentity, context: BuilderContext): Promise<FetchedImage>;
  /** Optional: the debug package, for kernels whose image carries no BTF. */
  fetchDebugPackage?(kernel: KernelIdentity, context: BuilderContext): Promise<FetchedDebugPackage>;
  /** Optional: the kernel's build tree, for probes built with the kernel's own Kbuild (driverkit's way). */
  fetchBuildTree?(kernel: KernelIdentity, context: BuilderContext): Promise<FetchedBuildTree>;
  /** Every kernel whose headers the configured repositories of one arch offer (every registered builder has one; see the registry test). */
  crawl?(context: BuilderContext, options: CrawlOptions): Promise<CrawledKernel[]>;
}
