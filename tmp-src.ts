import { fetchSourcePackage } from './src/repo/apt/source-package.ts';
const name = process.argv[2]!, suite = process.argv[3]!;
const p = await fetchSourcePackage({ name, suite }, { cacheDir: '/var/cache/kbuild', ...(suite === 'sid' ? { ignoreValidUntil: true } : {}) });
console.log(p.version, p.dir);
