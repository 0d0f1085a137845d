import sharp from 'sharp'
const [out, ...files] = process.argv.slice(2)
const w = 390, h = 844, cols = 4
const rows = Math.ceil(files.length / cols)
const comps = await Promise.all(files.map(async (f, i) => ({ input: await sharp(f).resize(w, h, { fit: 'contain', background: '#888' }).toBuffer(), left: (i % cols) * (w + 10), top: Math.floor(i / cols) * (h + 10) })))
await sharp({ create: { width: cols * (w + 10), height: rows * (h + 10), channels: 3, background: '#555' } }).composite(comps).png().toFile(out)
