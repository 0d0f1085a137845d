/**
 * Entry: Vue + Pinia, the first data loads (retried until the server answers) and the live connection.
 */
import { createPinia } from 'pinia'
import { createApp, watch } from 'vue'
import App from './App.vue'
import { retry } from './lib/retry.ts'
import { startRealtime } from './realtime/socket.ts'
import { makeRouter } from './router.ts'
import { useCasesStore } from './stores/cases.ts'
import { useRegionsStore } from './stores/regions.ts'
import { useSessionStore } from './stores/session.ts'
import './styles/theme.css'

const pinia = createPinia()
const app = createApp(App)
app.use(pinia)
const router = makeRouter()
app.use(router)
// Debug handle (devtools, end-to-end tests): harmless, never used by the app itself. Made before mounting, so that
// views mounted while the session is still being restored can hang their maps on it; `realtime` joins below.
window.__gridcommand = { pinia, router }
app.mount('#app')

const session = useSessionStore(pinia)
const regions = useRegionsStore(pinia)

// A session kept from before (refresh token in storage) first: the first loads are then already the user's scope.
await retry(() => session.restore()).catch(() => false)

void retry(() => regions.load())
void retry(() => useCasesStore(pinia).load())
// The map frames the user's jurisdiction: its profile, now and after every sign-in or sign-out.
watch(
  () => session.scopeRegionId,
  (id) => void regions.loadScope(id).catch((err) => console.warn('[gridcommand] jurisdiction failed to load:', err instanceof Error ? err.message : err)),
  { immediate: true },
)
const realtime = startRealtime(pinia)
window.__gridcommand.realtime = realtime
