// Vite builds the web app in web/ into web/dist, which the server serves (https://vite.dev/config/). Two pages:
// the command center (web/index.html: the wall, drill-down and dispatch) and the field app for phones
// (web/m/index.html, served at /m/), which shares stores and shared/ with it but never loads deck.gl or ECharts.
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'
import { fieldAppFiles, fieldAppPrecache } from './web/build/field-app-files.ts'

const serverPort = Number(process.env.PORT ?? 8080)
const web = (p: string) => fileURLToPath(new URL(`./web/${p}`, import.meta.url))

export default defineConfig({
  root: web(''),
  plugins: [
    vue(),
    fieldAppFiles(),
    // The field app's service worker (web/src/mobile/sw.ts, built to web/dist/m/sw.js, scope /m/): Workbox precaches
    // the field app's own files — only those reachable from web/m/index.html, never the wall's — and keeps the last
    // map tiles seen, so the app opens and shows its map with no network (https://vite-pwa-org.netlify.app/guide/inject-manifest).
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/mobile',
      filename: 'sw.ts',
      outDir: web('dist/m'),
      scope: '/m/',
      base: '/m/',
      injectRegister: false,
      manifest: false,
      injectManifest: {
        globDirectory: web('dist'),
        globPatterns: ['**/*.{js,mjs,css,html,png,svg,webmanifest}'],
        globIgnores: ['m/sw.js'],
        manifestTransforms: [fieldAppPrecache],
        // MapLibre's worker and main chunk are over Workbox's 2 MiB default.
        maximumFileSizeToCacheInBytes: 5 * 1024 * 1024,
      },
    }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rolldownOptions: { input: { main: web('index.html'), m: web('m/index.html') } },
    // maplibre-gl alone is ~800 kB minified; the wall loads once and stays open.
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npm run dev`: Vite serves the page with hot reload and forwards the API and Socket.IO to the server.
    proxy: {
      '/api': `http://127.0.0.1:${serverPort}`,
      '/ogc': `http://127.0.0.1:${serverPort}`,
      '/tiles': `http://127.0.0.1:${serverPort}`,
      '/socket.io': { target: `ws://127.0.0.1:${serverPort}`, ws: true },
    },
  },
})
