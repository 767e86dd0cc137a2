// A pool's overview: sign-ins and failures per day (uPlot), and the directory at a glance:
// users by status, MFA adoption, accounts locked out now. From CognateInsights.GetUserPoolActivity.
import { insights } from './api.js';
import { h } from './dom.js';

function percent(part, whole) {
  return whole ? `${Math.round((100 * part) / whole)}%` : '–';
}

export async function activityView(pool) {
  const activity = await insights('GetUserPoolActivity', { UserPoolId: pool.Id, Days: 14 });
  const users = activity.Users;
  const days = activity.Days;
  const signIns = days.reduce((n, d) => n + d.SignIns, 0);
  const failures = days.reduce((n, d) => n + d.Failures, 0);
  const chart = h('figure', { class: 'chart', id: 'sign-in-chart' },
    h('figcaption', {}, 'Sign-ins per day (UTC), last 14 days'));
  const stats = h('dl', { class: 'stats', id: 'pool-stats' },
    h('div', {}, h('dt', {}, 'Users'), h('dd', { 'data-stat': 'users' }, users.Total)),
    h('div', {}, h('dt', {}, 'Sign-ins (14 days)'), h('dd', { 'data-stat': 'sign-ins' }, signIns)),
    h('div', {}, h('dt', {}, 'Failed sign-ins (14 days)'), h('dd', { 'data-stat': 'failures' }, failures)),
    h('div', {}, h('dt', {}, 'Locked out now'), h('dd', { 'data-stat': 'locked-out' }, users.LockedOut)),
    h('div', {}, h('dt', {}, 'MFA adoption'), h('dd', { 'data-stat': 'mfa' }, `${percent(users.WithMfa, users.Total)} (${users.WithMfa})`)),
    h('div', {}, h('dt', {}, 'Disabled'), h('dd', { 'data-stat': 'disabled' }, users.Disabled)));
  const byStatus = h('ul', { class: 'statuses', 'aria-label': 'Users by status' },
    Object.entries(users.ByStatus).map(([status, n]) => h('li', {}, `${status}: ${n}`)));
  // A table of the same numbers: the chart's accessible twin.
  const numbers = h('table', { class: 'numbers' },
    h('caption', {}, 'Sign-ins per day'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col' }, 'Succeeded'), h('th', { scope: 'col' }, 'Failed'))),
    h('tbody', {}, days.map((d) => h('tr', {},
      h('td', {}, new Date(d.Start * 1000).toISOString().slice(0, 10)), h('td', {}, d.SignIns), h('td', {}, d.Failures)))));
  // Drawn once the figure is in the document (uPlot measures its parent).
  requestAnimationFrame(() => draw(chart, days));
  return [
    stats,
    chart,
    activity.Truncated ? h('p', { class: 'empty' }, 'A very large pool: counts cover the first 100,000 records.') : null,
    byStatus,
    h('details', {}, h('summary', {}, 'Numbers behind the chart'), numbers),
  ];
}

function draw(figure, days) {
  if (!figure.isConnected || typeof window.uPlot !== 'function') return;
  const width = Math.max(320, Math.min(900, figure.clientWidth || 640));
  const data = [
    days.map((d) => d.Start),
    days.map((d) => d.SignIns),
    days.map((d) => d.Failures),
  ];
  // The day's two bars side by side.
  const left = window.uPlot.paths.bars({ size: [0.35, 24], align: -1 });
  const right = window.uPlot.paths.bars({ size: [0.35, 24], align: 1 });
  const plot = new window.uPlot({
    width,
    height: 240,
    // Half a day of room on each side, so the first and last days' bars are drawn whole.
    scales: { x: { time: true, range: (u, min, max) => [min - 43200, max + 43200] }, y: { range: (u, min, max) => [0, Math.max(4, max)] } },
    axes: [{}, { label: 'sign-ins' }],
    series: [
      {},
      { label: 'Succeeded', stroke: '#1a7f37', fill: 'rgba(26,127,55,0.45)', paths: left, points: { show: false } },
      { label: 'Failed', stroke: '#b42318', fill: 'rgba(180,35,24,0.45)', paths: right, points: { show: false } },
    ],
  }, data, figure);
  plot.root.setAttribute('aria-hidden', 'true');
}
