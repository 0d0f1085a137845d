/**
 * Entry: Vue + Pinia, the first data loads (retried until the server answers) and the live connection.
 */
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { retry } from './lib/retry.ts'
import { startRealtime } from './realtime/socket.ts'
import { useCasesStore } from './stores/cases.ts'
import { useRegionsStore } from './stores/regions.ts'
import './styles/theme.css'

const pinia = createPinia()
const app = createApp(App)
app.use(pinia)
app.mount('#app')

void retry(() => useRegionsStore(pinia).load())
void retry(() => useCasesStore(pinia).load())
const realtime = startRealtime(pinia)

// Debug handle (devtools, end-to-end tests): harmless, never used by the app itself.
window.__gridcommand = { pinia, realtime }
