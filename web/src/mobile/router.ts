/**
 * The field app's screens under /m/ (history mode: the server answers every /m/… path with m/index.html, and the
 * service worker does the same offline). The start screen depends on the role: a grid worker's tasks, an inspector's
 * cases to verify, a resident's own reports.
 */
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import ReportView from './views/ReportView.vue'
import SignInView from './views/SignInView.vue'

export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'home', component: { render: () => null } },
  { path: '/signin', name: 'signin', component: SignInView, meta: { public: true } },
  { path: '/report', name: 'report', component: ReportView },
  { path: '/tasks', name: 'tasks', component: () => import('./views/TasksView.vue') },
  { path: '/verify', name: 'verify', component: () => import('./views/VerifyView.vue') },
  { path: '/mine', name: 'mine', component: () => import('./views/MineView.vue') },
  { path: '/case/:id', name: 'case', component: () => import('./views/CaseView.vue') },
  { path: '/checkin', name: 'checkin', component: () => import('./views/CheckinView.vue') },
  { path: '/outbox', name: 'outbox', component: () => import('./views/OutboxView.vue') },
  { path: '/me', name: 'me', component: () => import('./views/MeView.vue') },
  { path: '/:rest(.*)*', redirect: '/' },
]

export function makeRouter() {
  return createRouter({ history: createWebHistory('/m/'), routes, scrollBehavior: () => ({ top: 0 }) })
}

/** Where a role starts. */
export function homeOf(role: string | null): string {
  if (role === 'grid_worker') return '/tasks'
  if (role === 'inspector' || role === 'leader') return '/verify'
  if (role === 'resident') return '/mine'
  return '/report'
}
