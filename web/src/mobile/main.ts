/**
 * The field app (/m/): Vue + Pinia, the session of the wall's store (same accounts, same refresh token), and the
 * service worker that keeps the app and its last map tiles for offline use. It renders at once: the session is
 * restored in the background, and with no network the app opens on the profile and lists kept on the phone.
 */
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import { retry } from '../lib/retry.ts'
import { useSessionStore } from '../stores/session.ts'
import App from './App.vue'
import { makeRouter } from './router.ts'
import { useProfileStore } from './stores/profile.ts'
import './style.css'

const pinia = createPinia()
const router = makeRouter()
const app = createApp(App)
app.use(pinia)
app.use(router)
window.__gridcommand = { pinia, router }
app.mount('#app')

void retry(() => useSessionStore(pinia).restore())
  .catch(() => false)
  .then((ok) => {
    if (!ok) useProfileStore(pinia).noSession()
  })

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  navigator.serviceWorker.register('/m/sw.js', { scope: '/m/' }).catch((err) => console.warn('[field] service worker:', err))
}
