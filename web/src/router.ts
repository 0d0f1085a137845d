/**
 * The page's screens, one route each (history mode: the server answers every non-API path with index.html, so a
 * URL can be shared and reloaded). The wall is `/`; the drill-down and the dispatcher's workspace add their routes
 * here. Views are loaded lazily so the wall does not pay for the others' code.
 */
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import CommandCenterView from './views/CommandCenterView.vue'

export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'wall', component: CommandCenterView },
  // Issue #8: the drill-down (the region in the path, the tab in ?view=) and the dispatcher's workspace (?case=).
  { path: '/drill/:regionId?', name: 'drill', component: () => import('./views/DrillView.vue') },
  { path: '/dispatch', name: 'dispatch', component: () => import('./views/DispatchView.vue') },
  { path: '/:rest(.*)*', redirect: '/' },
]

export function makeRouter() {
  return createRouter({ history: createWebHistory(), routes })
}
