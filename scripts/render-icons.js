// Renders the phone app's PNG icons from app/web/phone/icons/icon.svg with Debian's Chromium.
// Run once after changing the SVG (`node scripts/render-icons.js`); the PNGs are committed.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const dir = path.resolve(__dirname, '..', 'app', 'web', 'phone', 'icons');
const svg = fs.readFileSync(path.join(dir, 'icon.svg'), 'utf8');
// Maskable: full-bleed square, the glyph kept inside the central 80 % safe zone.
const maskable = svg.replace('rx="116"', 'rx="0"').replace(/<g /g, '<g transform="translate(51.2 51.2) scale(0.8)" ');
// Badge: Android shows only the alpha channel, so a white glyph on nothing.
const badge = svg.replace(/<rect[^>]*\/>/, '').replace(/opacity="\.75"/, '');

const outputs = [
  ['icon-192.png', svg, 192],
  ['icon-512.png', svg, 512],
  ['apple-touch-icon.png', maskable, 180], // iOS rounds the corners itself
  ['icon-maskable-512.png', maskable, 512],
  ['badge-96.png', badge, 96],
];

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  for (const [file, source, size] of outputs) {
    await page.setViewportSize({ width: size, height: size });
    const sized = source.replace('<svg ', `<svg width="${size}" height="${size}" `);
    await page.setContent(`<html><body style="margin:0;background:transparent">${sized}</body></html>`);
    await page.locator('svg').screenshot({ path: path.join(dir, file), omitBackground: true });
    console.log(file, size);
  }
  await browser.close();
})();
