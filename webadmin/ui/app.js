// The admin UI: a small single-page app over the JSON API (docs/openapi.yaml). No framework, no
// external resources; text only ever goes in through textContent.
'use strict';
(() => {
  const S = { lang: 'fr', user: null, role: null, csrf: null, gen: 0 };
  const T = (k) => (window.EDS_TEXTS[S.lang] || {})[k] || window.EDS_TEXTS.fr[k] || k;
  const main = document.getElementById('main');

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'text') e.textContent = v;
      else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat()) {
      if (kid !== null && kid !== undefined) e.append(kid instanceof Node ? kid : String(kid));
    }
    return e;
  }
  const field = (label, input) => el('label', {}, T(label), input);
  const msg = (text, ok) => el('div', { class: ok ? 'msg ok' : 'msg err', role: 'status' }, text);
  // A date and time in the user's language and the browser's time zone, or "none".
  const when = (iso) => iso ? new Date(iso).toLocaleString(S.lang === 'fr' ? 'fr-FR' : 'en-GB',
    { dateStyle: 'short', timeStyle: 'short' }) : T('none');
  const values = (form) => Object.fromEntries(new FormData(form).entries());
  const bytes = (n) => n > 1e9 ? (n / 1e9).toFixed(2) + ' GB' : n > 1e6 ? (n / 1e6).toFixed(1) + ' MB' : Math.round(n / 1e3) + ' kB';

  async function api(method, path, body) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (S.csrf && method !== 'GET') headers['X-CSRF-Token'] = S.csrf;
    const r = await fetch(path, { method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body) });
    let data = {};
    try { data = await r.json(); } catch (e) { data = {}; }
    if (r.status === 401 && S.csrf && path !== '/api/login') { S.csrf = null; go('#/login'); }
    return { ok: r.ok, status: r.status, data };
  }

  // A form whose submit calls `action(values)`; the answer's error shows under it.
  function form(id, fields, button, action, cls) {
    const out = el('div');
    const f = el('form', { id, class: cls || '' }, fields, el('button', { type: 'submit' }, T(button)), out);
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      out.replaceChildren();
      const r = await action(values(f), f);
      if (r && !r.ok) out.append(msg(r.data.error || ('HTTP ' + r.status)));
    });
    return f;
  }

  function table(cols, rows) {
    return el('table', {}, el('thead', {}, el('tr', {}, cols.map((c) => el('th', {}, T(c))))),
      el('tbody', {}, rows));
  }

  // A line chart of [t, v] points drawn as inline SVG.
  function chart(title, points, fmt) {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('class', 'chart');
    svg.setAttribute('viewBox', '0 0 600 160');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', title);
    const add = (tag, attrs, text) => {
      const n = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text !== undefined) n.textContent = text;
      svg.append(n);
    };
    add('line', { x1: 50, y1: 140, x2: 590, y2: 140 });
    if (points.length > 0) {
      const t0 = points[0][0], t1 = Math.max(points[points.length - 1][0], t0 + 1);
      const max = Math.max(1, ...points.map((p) => p[1]));
      const xy = points.map(([t, v]) => [50 + 540 * (t - t0) / (t1 - t0), 140 - 120 * v / max]);
      if (xy.length === 1) xy.push([590, xy[0][1]]);
      add('polyline', { points: xy.map((p) => p[0].toFixed(1) + ',' + p[1].toFixed(1)).join(' ') });
      add('text', { x: 0, y: 24 }, fmt(max));
      add('text', { x: 0, y: 140 }, '0');
      add('text', { x: 50, y: 156 }, new Date(t0).toLocaleTimeString(S.lang));
      add('text', { x: 540, y: 156 }, new Date(t1).toLocaleTimeString(S.lang));
    }
    return el('div', { class: 'card' }, el('h2', {}, title), svg);
  }

  // Navigates, re-rendering when the hash is already the target.
  function go(hash) {
    if (location.hash === hash) route(); else location.hash = hash;
  }

  // A page that finishes loading after the user moved on must not draw over the newer one.
  function renderer() {
    const gen = S.gen;
    return (...kids) => { if (gen === S.gen) main.replaceChildren(...kids); };
  }

  const pages = {};

  pages.login = () => {
    const show = renderer();
    show(el('div', { class: 'card login' }, el('h1', {}, T('login')),
      form('login-form', [field('name', el('input', { name: 'name', autocomplete: 'username', required: true })),
        field('password', el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true }))],
      'sign_in', async (v) => {
        const r = await api('POST', '/api/login', v);
        if (r.ok) { signedIn(r.data); go('#/dashboard'); }
        return r;
      })));
  };

  pages.setup = () => {
    const show = renderer();
    const result = el('div');
    show(el('div', { class: 'card' }, el('h1', {}, T('setup')),
      form('setup-form', [
        field('setup_token', el('input', { name: 'token', required: true, autocomplete: 'off' })),
        el('h2', {}, T('admin_account')),
        field('name', el('input', { name: 'name', required: true, autocomplete: 'username' })),
        field('password', el('input', { name: 'password', type: 'password', required: true, minlength: 12, autocomplete: 'new-password' })),
        field('language', el('select', { name: 'language' }, el('option', { value: 'fr' }, 'Français'), el('option', { value: 'en' }, 'English'))),
        el('h2', {}, T('settings')),
        field('hospital', el('input', { name: 'hospital_name', required: true })),
        field('time_zone', el('input', { name: 'time_zone', value: 'Europe/Paris', required: true })),
        field('upstream_url', el('input', { name: 'upstream_url', type: 'url', placeholder: 'https://' })),
        field('upstream_ca', el('textarea', { name: 'upstream_ca_pem' })),
        field('schedule', el('input', { name: 'schedule', value: '0 6 * * *', required: true }))],
      'finish_setup', async (v) => {
        const r = await api('POST', '/api/setup', { token: v.token,
          admin: { name: v.name, password: v.password, language: v.language },
          settings: { hospital_name: v.hospital_name, time_zone: v.time_zone, upstream_url: v.upstream_url,
            upstream_ca_pem: v.upstream_ca_pem, schedule: v.schedule } });
        if (r.ok) {
          result.replaceChildren(msg(T('done'), true),
            el('p', {}, T('node_key'), ': ', el('code', { id: 'node-key' }, r.data.node.public_key)),
            el('p', {}, T('fingerprint'), ': ', el('code', { id: 'node-fingerprint' }, r.data.node.fingerprint)),
            el('a', { href: '#/login', id: 'go-login' }, T('go_login')));
        }
        return r;
      }), result));
  };

  pages.dashboard = async () => {
    const show = renderer();
    const r = await api('GET', '/api/status');
    if (!r.ok) return;
    const s = r.data;
    const kpi = (label, value) => el('div', { class: 'card kpi' }, T(label), el('b', {}, value));
    const hist = s.history || [];
    const alertText = (a) => T('alert_' + a.code) + (a.detail === '' ? '' :
      ' ' + (a.code === 'disk_low' ? bytes(a.detail) : a.detail));
    show(el('h1', {}, T('dashboard')),
      el('div', { class: 'card', id: 'alerts' }, el('h2', {}, T('alerts')), s.alerts.length ?
        s.alerts.map((a) => el('div', { class: 'alert ' + a.level, 'data-alert': a.code }, alertText(a))) :
        el('p', {}, T('no_alerts'))),
      el('div', { class: 'grid' }, kpi('records', s.store.records), kpi('patients', s.store.patients),
        kpi('disk', bytes(s.store.disk_bytes)),
        kpi('disk_free', s.store.disk_free_bytes === null ? '—' : bytes(s.store.disk_free_bytes)),
        kpi('peers_now', s.feeds.mllp_enabled ? s.feeds.mllp_connections : T('mllp_off')),
        kpi('outbox', s.sync.queued || 0),
        kpi('last_delivery', when(s.sync.last_delivery_at)), kpi('next_run', when(s.sync.next_run_at)),
        kpi('version', s.version)),
      el('div', { class: 'grid' },
        chart(T('ingest_chart'), hist.map((p) => [p.t, p.records]), (v) => String(v)),
        chart(T('storage_chart'), hist.map((p) => [p.t, p.disk_bytes]), bytes)),
      el('div', { class: 'card' }, el('h2', {}, T('releases')),
        table(['state', 'count'], Object.entries(s.releases).map(([k, v]) =>
          el('tr', {}, el('td', {}, el('span', { class: 'state ' + k }, k)), el('td', {}, v))))));
  };

  pages.feeds = async () => {
    const show = renderer();
    const [r, f] = await Promise.all([api('GET', '/api/feeds/tokens'), api('GET', '/api/feeds')]);
    if (!r.ok || !f.ok) return;
    const shown = el('div', { id: 'new-token' });
    const l = f.data.mllp;
    show(el('h1', {}, T('feeds')),
      el('div', { class: 'card', id: 'mllp-card' }, el('h2', {}, T('mllp')), l.enabled ? table(
        ['listen', 'tls', 'connections_now', 'accepted', 'rejected', 'allowed_peers'],
        [el('tr', {}, el('td', {}, l.bind + ':' + l.port), el('td', {}, l.tls ? T('yes') : T('no')),
          el('td', {}, l.connections_active), el('td', {}, l.messages_accepted ?? '—'),
          el('td', {}, l.messages_rejected ?? '—'),
          el('td', {}, l.allowed_peers.length ? l.allowed_peers.join(', ') : T('every_peer')))]) :
        el('p', {}, T('mllp_off')),
        l.enabled ? el('h3', {}, T('peers_now')) : null,
        !l.enabled ? null : l.peers.length ? table(['peer', 'tls', 'connected_at', 'messages', 'last_message'],
          l.peers.map((p) => el('tr', { class: 'mllp-peer' }, el('td', {}, p.address + ':' + p.port),
            el('td', {}, p.tls ? T('yes') : T('no')), el('td', {}, p.connected_at), el('td', {}, p.messages),
            el('td', {}, p.last_message_at || '—')))) : el('p', { id: 'no-peers' }, T('none'))),
      el('div', { class: 'card', id: 'ingest-errors' }, el('h2', {}, T('ingest_errors')),
        f.data.errors.length ? table(['at', 'feed', 'source', 'code', 'reason'], f.data.errors.map((e) =>
          el('tr', {}, el('td', {}, e.at), el('td', {}, e.feed), el('td', {}, e.source), el('td', {}, e.code),
            el('td', {}, e.reason)))) : el('p', {}, T('none'))),
      el('div', { class: 'card' }, el('h2', {}, T('tokens')),
      form('token-form', [field('token_name', el('input', { name: 'name', required: true, pattern: '[A-Za-z0-9._\\-]+' }))],
        'create', async (v) => {
          const c = await api('POST', '/api/feeds/tokens', v);
          if (c.ok) {
            await pages.feeds();
            document.getElementById('new-token').replaceChildren(msg(T('shown_once'), true),
              el('div', { class: 'secret', id: 'token-value' }, c.data.token));
          }
          return c;
        }, 'inline'), shown,
      table(['token_name', 'created', 'revoked', ''], r.data.tokens.map((t) => el('tr', {},
        el('td', {}, t.name), el('td', {}, t.created), el('td', {}, t.revoked || '—'),
        el('td', {}, t.revoked ? '' : el('button', { class: 'danger', 'data-revoke': t.name, onclick: async () => {
          if (!confirm(T('sure'))) return;
          await api('DELETE', '/api/feeds/tokens/' + encodeURIComponent(t.name));
          pages.feeds();
        } }, T('revoke'))))))));
  };

  pages.releases = async () => {
    const show = renderer();
    const want = new URLSearchParams(location.hash.split('?')[1] || '').get('state') || '';
    const r = await api('GET', '/api/releases' + (want ? '?state=' + encodeURIComponent(want) : ''));
    if (!r.ok) return;
    const states = ['', 'checked', 'approved', 'rejected', 'queued', 'delivered', 'failed'];
    const pick = el('select', { id: 'state-filter', onchange: (e) => {
      location.hash = '#/releases' + (e.target.value ? '?state=' + e.target.value : '');
    } }, states.map((s) => el('option', { value: s, selected: s === want }, s || T('all'))));
    const compute = S.role === 'viewer' ? null : form('compute-form',
      [field('period', el('input', { name: 'period', placeholder: '2025-01', required: true }))], 'compute',
      async (v) => {
        const c = await api('POST', '/api/releases', v);
        if (c.ok) location.hash = '#/release/' + encodeURIComponent(c.data.id);
        return c;
      }, 'inline');
    show(el('h1', {}, T('releases')), el('div', { class: 'card' }, compute),
      el('div', { class: 'card' }, field('state', pick),
        table(['period', 'state', 'updated', ''], r.data.releases.map((x) => el('tr', {},
          el('td', {}, x.period), el('td', {}, el('span', { class: 'state ' + x.state }, x.state)),
          el('td', {}, x.updated), el('td', {}, el('a', { href: '#/release/' + encodeURIComponent(x.id) }, T('open'))))))));
  };

  pages.release = async (id) => {
    const show = renderer();
    const r = await api('GET', '/api/releases/' + encodeURIComponent(id));
    if (!r.ok) { show(msg(r.data.error || 'HTTP ' + r.status)); return; }
    const x = r.data;
    const tables = x.tables.map((t) => el('div', { class: 'card' }, el('h2', {}, t.measure),
      table(['stratifier', 'values', 'count', 'reason'], t.rows.map((row) => el('tr', {},
        el('td', {}, row.stratifier || T('total')), el('td', {}, row.values.join(' · ')),
        el('td', { class: row.masked ? 'masked' : '' }, row.masked ? T('masked') : row.count),
        el('td', {}, row.reason ? row.rule + ' — ' + row.reason : ''))))));
    const decide = (verb) => async (v) => {
      const d = await api('POST', '/api/releases/' + encodeURIComponent(id) + '/' + verb, v);
      if (d.ok) pages.release(id);
      return d;
    };
    const review = S.role === 'reviewer' && x.state === 'checked' ? el('div', { class: 'card' },
      form('approve-form', [field('comment', el('textarea', { name: 'comment', required: true }))], 'approve', decide('approve')),
      form('reject-form', [field('comment', el('textarea', { name: 'comment', required: true }))], 'reject', decide('reject'))) : null;
    show(el('h1', {}, T('releases'), ' ', x.period, ' ', el('span', { class: 'state ' + x.state, id: 'release-state' }, x.state)),
      ...(review ? [review] : []), ...tables,
      el('div', { class: 'card' }, el('h2', {}, T('history')), table(['state', 'at', 'actor', 'comment'],
        x.history.map((h) => el('tr', {}, el('td', {}, h.state), el('td', {}, h.at), el('td', {}, h.actor), el('td', {}, h.comment))))));
  };

  pages.objections = async () => {
    const show = renderer();
    const r = await api('GET', '/api/objections');
    if (!r.ok) return;
    show(el('h1', {}, T('objections')),
      el('div', { class: 'card' }, form('objection-form', [field('identifier', el('input', { name: 'identifier', required: true }))], 'add',
        async (v) => { const a = await api('POST', '/api/objections', v); if (a.ok) pages.objections(); return a; }, 'inline'),
      table(['identifier', 'created', ''], r.data.objections.map((o) => el('tr', {}, el('td', {}, o.identifier), el('td', {}, o.added),
        el('td', {}, el('button', { class: 'plain', onclick: async () => {
          await api('POST', '/api/objections/remove', { identifier: o.identifier }); pages.objections();
        } }, T('remove'))))))),
      el('div', { class: 'card' }, el('h2', {}, T('erase')), msg(T('erase_warning')),
        form('erase-form', [field('identifier', el('input', { name: 'identifier', required: true })),
          field('confirm_identifier', el('input', { name: 'confirm', required: true }))], 'erase', async (v, f) => {
          if (!confirm(T('sure'))) return null;
          const e = await api('POST', '/api/erasure', v);
          if (e.ok) f.append(msg(T('done') + ' ' + e.data.records_deleted, true));
          return e;
        })));
  };

  pages.audit = async () => {
    const show = renderer();
    const q = new URLSearchParams(location.hash.split('?')[1] || '');
    const r = await api('GET', '/api/audit?' + q.toString());
    if (!r.ok) return;
    const out = el('div');
    show(el('h1', {}, T('audit')), el('div', { class: 'card' },
      form('audit-filter', [field('user', el('input', { name: 'user', value: q.get('user') || '' })),
        field('action', el('input', { name: 'action', value: q.get('action') || '' })),
        field('since', el('input', { name: 'since', placeholder: '2026-01-01', value: q.get('since') || '' }))], 'filter',
        async (v) => { location.hash = '#/audit?' + new URLSearchParams(Object.entries(v).filter((e) => e[1])).toString(); return null; }, 'inline'),
      el('button', { class: 'plain', id: 'verify-chain', onclick: async () => {
        const c = await api('POST', '/api/audit/verify', {});
        out.replaceChildren(msg(c.data.intact ? T('chain_ok') + ' (' + c.data.entries + ')' : T('chain_broken') + ': ' + c.data.reason, c.data.intact));
      } }, T('verify')), out),
      table(['at', 'actor', 'action', 'object', 'detail'], r.data.entries.map((e) => el('tr', {},
        el('td', {}, e.at), el('td', {}, e.actor), el('td', {}, e.action), el('td', {}, e.object), el('td', {}, e.detail)))));
  };

  pages.system = async () => {
    const show = renderer();
    const [users, settings, sync, update] = await Promise.all([api('GET', '/api/users'), api('GET', '/api/settings'),
      api('GET', '/api/sync'), api('GET', '/api/system/update')]);
    if (!users.ok) return;
    const note = el('div');
    const st = settings.data;
    show(el('h1', {}, T('system')),
      el('div', { class: 'card' }, el('button', { id: 'backup-now', onclick: async () => {
        const b = await api('POST', '/api/system/backup', {});
        note.replaceChildren(msg(b.ok ? T('done') + ' ' + b.data.path : b.data.error, b.ok));
      } }, T('backup_now')), ' ', el('button', { class: 'plain', onclick: async () => {
        const m = await api('POST', '/api/system/metrics-token', {});
        note.replaceChildren(m.ok ? el('div', { class: 'secret' }, m.data.token) : msg(m.data.error));
      } }, T('metrics_token')), note),
      el('div', { class: 'card' }, el('h2', {}, T('sync')),
        el('p', {}, T('outbox'), ': ', sync.data.queued, ' — ', T('next_run'), ': ', sync.data.next_run_at || '—',
          ' — ', T('last_error'), ': ', sync.data.last_error || '—'),
        el('button', { id: 'sync-now', onclick: async () => {
          const n = await api('POST', '/api/sync/now', {});
          // A run that reached the upstream and failed there still answers 200, with ok false.
          const good = n.ok && n.data.ok !== false;
          note.replaceChildren(msg(good ? T('done') + ' ' + T('delivered_count') + ' : ' + n.data.delivered :
            (n.data.error || 'HTTP ' + n.status), good));
        } }, T('sync_now'))),
      el('div', { class: 'card' }, el('h2', {}, T('users')),
        table(['name', 'role', 'language', 'created', ''], users.data.users.map((u) => el('tr', {},
          el('td', {}, u.name), el('td', {}, u.role), el('td', {}, u.language), el('td', {}, u.created),
          el('td', {}, u.name === S.user ? '' : el('button', { class: 'danger', onclick: async () => {
            if (!confirm(T('sure'))) return;
            await api('DELETE', '/api/users/' + encodeURIComponent(u.name)); pages.system();
          } }, T('remove')))))),
        form('user-form', [field('name', el('input', { name: 'name', required: true })),
          field('password', el('input', { name: 'password', type: 'password', required: true, minlength: 12, autocomplete: 'new-password' })),
          field('role', el('select', { name: 'role' }, ['viewer', 'reviewer', 'admin'].map((x) => el('option', { value: x }, x))))],
        'add', async (v) => { const c = await api('POST', '/api/users', v); if (c.ok) pages.system(); return c; }, 'inline')),
      el('div', { class: 'card' }, el('h2', {}, T('settings')),
        form('settings-form', [field('hospital', el('input', { name: 'hospital_name', value: st.hospital_name || '' })),
          field('time_zone', el('input', { name: 'time_zone', value: st.time_zone || '' })),
          field('upstream_url', el('input', { name: 'upstream_url', value: st.upstream_url || '' })),
          field('upstream_ca', el('textarea', { name: 'upstream_ca_pem' }, st.upstream_ca_pem || '')),
          field('schedule', el('input', { name: 'schedule', value: st.schedule || '' }))], 'save',
        async (v, f) => { const p = await api('PUT', '/api/settings', v); if (p.ok) f.append(msg(T('saved'), true)); return p; })),
      updateCard(update.data), securityCard());
  };

  // The admin certificate (applied at the next start) and the master key rotation.
  function securityCard() {
    const out = el('div', { id: 'security-note' });
    return el('div', { class: 'card' }, el('h2', {}, T('security')),
      form('certificate-form', [field('cert_pem', el('textarea', { name: 'cert_pem', required: true })),
        field('key_pem', el('textarea', { name: 'key_pem', required: true }))], 'replace_certificate',
      async (v, f) => {
        const c = await api('POST', '/api/system/certificate', v);
        if (c.ok) { f.reset(); out.replaceChildren(msg(T('certificate_saved') + ' ' + c.data.fingerprint, true)); }
        return c;
      }),
      el('p', {}, T('rotate_key_help')),
      el('button', { id: 'rotate-key', class: 'danger', onclick: async () => {
        if (!confirm(T('rotate_key_confirm'))) return;
        const r = await api('POST', '/api/system/rotate-key', {});
        out.replaceChildren(msg(r.ok ? T('done') + ' ' + r.data.note : r.data.error, r.ok));
      } }, T('rotate_key')), out);
  }

  // Update status and the upload of an offline bundle (verified by the box like edsctl does).
  function updateCard(u) {
    const out = el('div');
    const t = u.trusted || {};
    const sl = u.slots || {};
    const last = u.last || {};
    const file = el('input', { type: 'file', id: 'update-file', accept: '.bundle,application/octet-stream' });
    const upload = async () => {
      if (!file.files.length) return;
      const data = await new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(String(reader.result).split(',')[1] || '');
        reader.onerror = reject;
        reader.readAsDataURL(file.files[0]);
      });
      const r = await api('POST', '/api/system/update', { bundle: data });
      out.replaceChildren(msg(r.ok ? T('update_installed') + ' ' +
        (r.data.installed || []).map((i) => i.target + ' ' + i.version).join(', ') : r.data.error, r.ok));
    };
    return el('div', { class: 'card' }, el('h2', {}, T('update')),
      el('p', {}, T('version'), ': ', u.version || ''),
      el('p', {}, T('trusted_metadata'), ': root v', t.root || 0, ', targets v', t.targets || 0),
      el('p', {}, T('slots'), ': ', sl.error || ((sl.booted || '?') + ' / ' + (sl.installed_version || '?'))),
      el('p', {}, T('last_update'), ': ', last.at ? last.at + ' — ' + last.result : '—'),
      file, ' ', el('button', { id: 'update-upload', onclick: upload }, T('upload_update')), out);
  }

  const NAV = [['dashboard', 7], ['feeds', 1], ['releases', 7], ['objections', 2], ['audit', 3], ['system', 1]];
  const BIT = { admin: 1, reviewer: 2, viewer: 4 };

  function signedIn(s) {
    S.user = s.user; S.role = s.role; S.csrf = s.csrf_token; S.lang = s.language || 'fr';
  }

  function chrome(page) {
    const top = document.getElementById('top');
    document.documentElement.lang = S.lang;
    document.getElementById('lang').value = S.lang;
    top.hidden = !S.csrf;
    document.getElementById('logout').textContent = T('logout');
    document.getElementById('who').textContent = S.user ? S.user + ' (' + S.role + ')' : '';
    document.getElementById('nav').replaceChildren(...NAV.filter(([, bits]) => bits & (BIT[S.role] || 0)).map(([p]) =>
      el('a', { href: '#/' + p, class: p === page ? 'on' : '' }, T(p))));
  }

  async function route() {
    S.gen++;
    const [path] = location.hash.replace(/^#\/?/, '').split('?');
    const [page, arg] = path.split('/');
    if (page === 'setup') { chrome(page); return pages.setup(); }
    if (!S.csrf) {
      const s = await api('GET', '/api/session');
      if (s.ok) signedIn(s.data);
    }
    if (!S.csrf || page === 'login') { S.csrf = null; chrome('login'); return pages.login(); }
    const name = pages[page] && page !== 'login' ? page : 'dashboard';
    chrome(name);
    return pages[name](arg ? decodeURIComponent(arg) : undefined);
  }

  document.getElementById('logout').addEventListener('click', async () => {
    await api('POST', '/api/logout', {});
    S.csrf = null; S.user = null; S.role = null; go('#/login');
  });
  document.getElementById('lang').addEventListener('change', async (e) => {
    S.lang = e.target.value;
    if (S.csrf) await api('PUT', '/api/session/language', { language: S.lang });
    route();
  });
  window.addEventListener('hashchange', route);
  (async () => {
    const setup = await api('GET', '/api/setup');
    if (setup.ok && setup.data.needed && !location.hash.startsWith('#/setup')) location.hash = '#/setup';
    else route();
  })();
})();
