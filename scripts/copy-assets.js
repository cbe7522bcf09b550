// Copies the non-TypeScript files the daemon reads at run time (SQL migrations, web assets)
// next to the compiled output, so dist/ is self-contained.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const assets = ['app/store/migrations', 'app/web'];

for (const rel of assets) {
  const from = path.join(root, rel);
  if (!fs.existsSync(from)) continue;
  fs.cpSync(from, path.join(root, 'dist', rel), { recursive: true });
}
