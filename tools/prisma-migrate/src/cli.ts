#!/usr/bin/env node
// te-migrate: see ../README.md. Everything lives in main.ts so tests can run the CLI in-process.
import { main } from './main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
