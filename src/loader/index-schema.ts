/**
 * The index schema now lives in @kbuild/loader (packages/loader/src/index-schema.ts).
 * Kept for src/verify/, src/queue/ and their tests, which other branches are
 * changing at the same time; import from '@kbuild/loader' in new code.
 */
export * from '@kbuild/loader';
