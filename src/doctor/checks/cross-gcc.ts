import { checkVersionedTool } from '../tool-version.js';
import type { DoctorCheck } from '../types.js';

/** Builds the static guest loader for arm64 guests; without it only x86_64 kernels can be verified. */
export const crossGcc: DoctorCheck = {
  id: 'aarch64-linux-gnu-gcc',
  title: 'aarch64-linux-gnu-gcc (arm64 guest loader)',
  required: () => false,
  run: async (c) =>
    (await checkVersionedTool({
      tool: 'aarch64-linux-gnu-gcc',
      args: ['--version'],
      prefix: /aarch64-linux-gnu-gcc[^\n]*?\)/,
      fix: 'apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross',
    }, c)).outcome,
};
