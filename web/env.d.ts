/// <reference types="vite/client" />
/// <reference types="geojson" />

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

interface Window {
  /** Debug handle set by src/main.ts: { pinia, realtime }. */
  __gridcommand?: Record<string, unknown>
}
