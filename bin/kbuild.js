#!/usr/bin/env node
// The CLI runs from the compiled tree; `npm run build` produces it.
import { main } from '../dist/src/cli/main.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
