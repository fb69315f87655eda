#!/usr/bin/env node
// A solc-compatible command line around the npm package `solc` (solcjs), so that py-solc-x
// (`solc_binary=`) and slither (`--solc`) can use the pinned compiler offline.
// Answers `--version` and `--standard-json` (JSON on stdin, JSON on stdout). Imports resolve from
// `--base-path`, the `--include-path`s, the working directory and node_modules.
// Output is written with fs.writeSync: solcjs's own CLI truncates piped output at 64 KiB.
'use strict';
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
// SOLCJS_MODULE picks another installed compiler (e.g. an npm alias pinned for a benchmark peer).
const solc = require(process.env.SOLCJS_MODULE || 'solc');

function write(text) {
  const buffer = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < buffer.length) offset += fs.writeSync(1, buffer, offset);
}

if (args.includes('--version')) {
  write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('scripts/solc.cjs supports only --version and --standard-json\n');
  process.exit(2);
}

const roots = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base-path' || args[i] === '--include-path') roots.push(args[++i]);
  else if (args[i] === '--allow-paths') i++; // imports are read only below the roots anyway
}
roots.push(process.cwd(), path.join(process.cwd(), 'node_modules'), path.join(__dirname, '..', 'node_modules'));

function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
}

const input = fs.readFileSync(0, 'utf8');
write(solc.compile(input, { import: findImports }));
