// Trigger plugins (Wasm modules): list, upload, remove.
import { plugins } from './api.js';
import { h, table, field, form, button, refresh } from './dom.js';

function base64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export async function pluginsView() {
  const { Plugins: list = [] } = await plugins('ListPlugins', {});
  return [
    h('h2', {}, 'Trigger plugins'),
    h('p', {}, 'Wasm modules that run where Cognito runs Lambda triggers. Name one in a pool\'s Settings, under Triggers.'),
    table('Plugins', [
      ['Names', (p) => (p.Names || []).join(', ')],
      ['Reference', (p) => h('code', {}, p.Reference)],
      ['Size', (p) => `${p.Size} B`],
      ['Problem', (p) => p.Problem || ''],
      ['', (p) => button('Remove', async () => { await plugins('DeletePlugin', { Reference: p.Reference }); refresh(); },
        { confirmText: `Remove ${(p.Names || [p.Reference]).join(', ')}? Pools naming it fail their triggers.`, danger: true })],
    ], list, 'No plugins registered.'),
    form('Upload a plugin', [
      field('Name', 'name', { required: true, pattern: '[A-Za-z0-9._-]{1,64}' }),
      field('Module (.wasm)', 'file', { type: 'file', accept: '.wasm,application/wasm', required: true }),
    ], 'Upload', async (v) => {
      const bytes = new Uint8Array(await v.file.arrayBuffer());
      await plugins('RegisterPlugin', { Name: v.name, Wasm: base64(bytes) });
      refresh();
    }),
  ];
}
