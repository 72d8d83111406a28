/** `kbuild/loader`: the agent library, published on its own as @kbuild/loader (packages/loader) and re-exported here so existing imports keep working. */
export * from '@kbuild/loader';
