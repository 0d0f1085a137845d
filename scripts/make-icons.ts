/**
 * Renders the field app's icons (web/public/m/icons/*.png) from icon.svg with sharp: 192 and 512 px, and a 512 px
 * maskable one whose artwork sits inside the 80 % safe zone. Run after editing the SVG: node --import tsx scripts/make-icons.ts
 */
import { readFileSync } from 'node:fs'
import sharp from 'sharp'

const dir = new URL('../web/public/m/icons/', import.meta.url)
const svg = readFileSync(new URL('icon.svg', dir))
for (const size of [192, 512]) await sharp(svg, { density: 300 }).resize(size, size).png().toFile(new URL(`icon-${size}.png`, dir).pathname)
const inner = await sharp(svg, { density: 300 }).resize(410, 410).png().toBuffer()
await sharp({ create: { width: 512, height: 512, channels: 4, background: '#0b57d0' } })
  .composite([{ input: inner, gravity: 'center' }])
  .png()
  .toFile(new URL('icon-maskable-512.png', dir).pathname)
console.log('icons written')
