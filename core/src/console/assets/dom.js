// Small DOM helpers. Text from the API only ever becomes text nodes or attribute values
// (never HTML), so a hostile attribute value cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export function link(href, ...children) {
  return h('a', { href }, ...children);
}

// A table: `columns` are [heading, (row) => cell] pairs.
export function table(caption, columns, rows, empty = 'None yet.') {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map(([heading]) => h('th', { scope: 'col' }, heading)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, columns.map(([, cell]) => h('td', {}, cell(row)))))));
}

let fieldCounter = 0;

// A labelled input; `options` for a select, `type: 'checkbox'` for a checkbox.
export function field(label, name, { type = 'text', value = '', options, required, help, ...rest } = {}) {
  const id = `f${++fieldCounter}-${name}`;
  let control;
  if (options) {
    control = h('select', { id, name, required },
      options.map((o) => {
        const [v, text] = Array.isArray(o) ? o : [o, o];
        return h('option', { value: v, selected: v === value }, text);
      }));
  } else if (type === 'textarea') {
    control = h('textarea', { id, name, required, rows: rest.rows || 4 });
    control.value = value;
  } else if (type === 'checkbox') {
    control = h('input', { id, name, type, checked: Boolean(value) });
    return h('div', { class: 'field checkbox' }, control, h('label', { for: id }, label));
  } else {
    control = h('input', { id, name, type, value, required, ...rest });
  }
  return h('div', { class: 'field' }, h('label', { for: id }, label), control,
    help ? h('small', {}, help) : null);
}

// A form whose submit runs `action(values)` and reports its outcome in the form.
export function form(title, fields, submitLabel, action) {
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const element = h('form', { class: 'card', 'aria-label': title },
    h('h3', {}, title), fields, h('button', { type: 'submit' }, submitLabel), status);
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = {};
    for (const control of element.querySelectorAll('input, select, textarea')) {
      if (!control.name) continue;
      if (control.type === 'checkbox') values[control.name] = control.checked;
      else if (control.type === 'file') values[control.name] = control.files[0];
      else values[control.name] = control.value.trim();
    }
    const button = element.querySelector('button[type=submit]');
    button.disabled = true;
    replace(status, 'Working…');
    status.className = 'status';
    try {
      const message = await action(values);
      replace(status, message || 'Done.');
    } catch (error) {
      showError(status, error);
    } finally {
      button.disabled = false;
    }
  });
  return element;
}

export function showError(element, error) {
  element.className = 'status error';
  element.setAttribute('role', 'alert');
  replace(element, error.type ? `${error.type}: ${error.message}` : String(error.message || error));
  return element;
}

// A button that runs `action` after an optional confirmation.
export function button(label, action, { confirmText, danger } = {}) {
  const element = h('button', { type: 'button', class: danger ? 'danger' : '' }, label);
  element.addEventListener('click', async () => {
    if (confirmText && !window.confirm(confirmText)) return;
    element.disabled = true;
    try {
      await action();
    } catch (error) {
      const note = h('span', { class: 'status error', role: 'alert' });
      showError(note, error);
      element.after(note);
    } finally {
      element.disabled = false;
    }
  });
  return element;
}

export function date(seconds) {
  if (seconds === undefined || seconds === null) return '';
  return new Date(Number(seconds) * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

export function attribute(user, name) {
  const list = user.Attributes || user.UserAttributes || [];
  const found = list.find((a) => a.Name === name);
  return found ? found.Value : '';
}

// Comma- or newline-separated text as a list.
export function list(text) {
  return String(text || '').split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

// Redraws the current page (after a change).
export function refresh() {
  window.dispatchEvent(new Event('cognate:refresh'));
}
