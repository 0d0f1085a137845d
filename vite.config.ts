// Vite builds the web app in web/ into web/dist, which the server serves (https://vite.dev/config/).
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

const serverPort = Number(process.env.PORT ?? 8080)

export default defineConfig({
  root: fileURLToPath(new URL('./web', import.meta.url)),
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
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
