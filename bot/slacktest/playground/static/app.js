// The csbot playground page: live updates over Server-Sent Events, and
// what a person does in Slack's client (commands, clicks, forms) sent to
// the page's API, which turns it into Socket Mode envelopes for the bot.
'use strict';

(() => {
  const body = document.body;
  const where = { as: body.dataset.as, in: body.dataset.in, tab: body.dataset.tab || '' };
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  // post sends JSON to the page's API and returns its JSON answer; an
  // error answer is thrown with its message.
  async function post(path, data) {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(data),
    });
    let out = {};
    try { out = await res.json(); } catch (e) { out = { error: res.statusText }; }
    if (!res.ok) throw new Error(out.error || res.statusText);
    return out;
  }

  function hint(text, isError) {
    const el = $('#hint');
    el.textContent = text || '';
    el.classList.toggle('error', !!isError);
  }

  // Live updates: the server sends what changed of the sidebar, the main
  // pane, the modal and the clock. The feed comes as the keys of its
  // items and the items that are new or changed; the others stay as
  // they are. A modal is replaced only when a different one (or a new
  // version of it) is shown, so typing survives.
  const last = { modal: ($('#modal .overlay') || {}).dataset?.key || null };

  function feedAtBottom() {
    const feed = $('#feed');
    return !feed || feed.scrollHeight - feed.scrollTop - feed.clientHeight < 80;
  }

  function scrollDown() {
    const feed = $('#feed');
    if (feed) feed.scrollTop = feed.scrollHeight;
  }

  // keepScroll runs change, then keeps the feed at the bottom if it was,
  // else where it was.
  function keepScroll(change) {
    const bottom = feedAtBottom();
    const top = ($('#feed') || {}).scrollTop || 0;
    change();
    if (bottom) scrollDown(); else if ($('#feed')) $('#feed').scrollTop = top;
  }

  // applyFeed puts the feed's items in the order of u.keys, the changed
  // ones from u.html. It returns false when the page lacks an item it
  // should hold.
  function applyFeed(u) {
    const feed = $('#feed');
    if (!feed) return false;
    const held = new Map($$(':scope > .item[data-key]', feed).map((el) => [el.dataset.key, el]));
    const tmpl = document.createElement('template');
    const items = [];
    for (const key of u.keys) {
      let el = held.get(key);
      if (Object.prototype.hasOwnProperty.call(u.html, key)) {
        tmpl.innerHTML = u.html[key];
        el = tmpl.content.firstElementChild;
      }
      if (!el) return false;
      items.push(el);
    }
    const rest = $$(':scope > :not(.item)', feed); // the "older messages" line
    keepScroll(() => feed.replaceChildren(...rest, ...items));
    return true;
  }

  let src = null;

  function apply(f) {
    if (f.sidebar !== undefined) {
      $('#channels').innerHTML = f.sidebar;
      filterChannels();
    }
    if (f.main !== undefined) keepScroll(() => { $('#main').innerHTML = f.main; });
    if (f.feed !== undefined && !applyFeed(f.feed)) {
      // Out of step with the server: start over, which sends everything.
      src.close();
      connect();
      return;
    }
    if (f.modal !== undefined) {
      const key = f.modal.key || null;
      if (key !== last.modal) {
        $('#modal').innerHTML = key ? f.modal.html : '';
        last.modal = key;
        focusModal();
      }
    }
    if (f.clock !== undefined) $('#clock-state').innerHTML = f.clock;
    body.dataset.live = 'true';
  }

  function connect() {
    const q = new URLSearchParams({ as: where.as, in: where.in, tab: where.tab });
    src = new EventSource('/events?' + q);
    src.onmessage = (ev) => apply(JSON.parse(ev.data));
    src.onerror = () => { body.dataset.live = 'false'; };
  }

  function focusModal() {
    const first = $('#modal .modal-body input, #modal .modal-body textarea, #modal .modal-body select');
    if (first) first.focus();
  }

  // The sidebar's filter.
  function filterChannels() {
    const q = $('#filter').value.trim().toLowerCase();
    $$('#channels a[data-name]').forEach((a) => {
      a.hidden = q !== '' && !a.dataset.name.includes(q);
    });
  }

  // valuesOf returns what an element holds: the options picked, the
  // boxes ticked in its group, or what was typed.
  function valuesOf(el) {
    if (el.tagName === 'SELECT') return Array.from(el.selectedOptions).map((o) => o.value).filter((v) => v !== '');
    if (el.type === 'checkbox' || el.type === 'radio') {
      const group = el.closest('[data-group]');
      return $$('input:checked', group).map((i) => i.value);
    }
    return el.value === '' ? [] : [el.value];
  }

  // collectState returns the values of a view's elements, by path.
  function collectState(root) {
    const state = {};
    $$('[data-path]', root).forEach((el) => {
      if (el.tagName === 'BUTTON' || el.classList.contains('overflow')) return;
      state[el.dataset.path] = valuesOf(el);
    });
    return state;
  }

  // act sends the block action of a click or a pick.
  async function act(el, values) {
    const view = el.closest('[data-view]');
    const msg = el.closest('[data-ts]');
    const data = { as: where.as, in: where.in, path: el.dataset.path, action_id: el.dataset.actionId, values };
    if (view) {
      data.view = view.dataset.view;
      data.state = collectState(view);
    } else if (msg) {
      data.in = msg.dataset.channel;
      data.ts = msg.dataset.ts;
    }
    if (el.dataset.url) window.open(el.dataset.url, '_blank', 'noopener');
    el.classList.add('busy');
    try {
      await post('/api/action', data);
    } catch (e) {
      if (view && view.closest('#modal')) modalError(view, e.message); else hint(e.message, true);
    } finally {
      el.classList.remove('busy');
      if (el.classList.contains('overflow')) el.value = '';
    }
  }

  // confirmed shows a button's confirm dialog, if it has one, and
  // resolves to whether the person confirmed.
  function confirmed(btn) {
    const data = btn.nextElementSibling;
    if (!data || !data.classList.contains('confirm-data')) return Promise.resolve(true);
    const dlg = $('#confirm-template').content.firstElementChild.cloneNode(true);
    for (const part of ['c-title', 'c-text', 'c-confirm', 'c-deny']) {
      const from = $('.' + part, data);
      if (from && from.innerHTML.trim() !== '') $('.' + part, dlg).innerHTML = from.innerHTML;
    }
    if ($('.c-style', data).textContent === 'danger') $('.c-confirm', dlg).classList.replace('btn-primary', 'btn-danger');
    document.body.appendChild(dlg);
    $('.c-confirm', dlg).focus();
    return new Promise((resolve) => {
      const done = (ok) => { dlg.remove(); resolve(ok); };
      $('.c-confirm', dlg).addEventListener('click', () => done(true));
      $('.c-deny', dlg).addEventListener('click', () => done(false));
    });
  }

  function modalError(form, text) {
    const el = $('.modal-error', form);
    if (el) el.textContent = text || '';
  }

  function showErrors(form, errors) {
    $$('.block.input', form).forEach((b) => {
      const msg = errors[b.dataset.blockId] || '';
      b.classList.toggle('has-error', msg !== '');
      $('.error', b).textContent = msg;
    });
    const unknown = Object.keys(errors).filter((id) => !$$('.block.input', form).some((b) => b.dataset.blockId === id));
    modalError(form, unknown.map((id) => errors[id]).join(' '));
  }

  async function submitModal(form) {
    const btn = $('button[type=submit]', form);
    modalError(form, '');
    btn.disabled = true;
    form.classList.add('busy');
    try {
      const out = await post('/api/submit', { as: where.as, view: form.dataset.view, state: collectState(form) });
      if (out.errors) showErrors(form, out.errors);
      // A closed modal goes away with the next live update.
    } catch (e) {
      modalError(form, e.message);
    } finally {
      btn.disabled = false;
      form.classList.remove('busy');
    }
  }

  async function closeModal(form, all) {
    try {
      await post('/api/close', { as: where.as, view: form.dataset.view, all });
    } catch (e) {
      modalError(form, e.message);
    }
  }

  async function sendCommand() {
    const input = $('#command');
    const text = input.value.trim();
    if (text === '') return;
    const btn = $('#composer button[type=submit]');
    btn.disabled = true;
    hint('Sending ' + text.split(/\s/)[0] + '…');
    try {
      await post('/api/command', { as: where.as, in: where.in, text });
      input.value = '';
      hint('');
      scrollDown();
    } catch (e) {
      hint(e.message, true);
    } finally {
      btn.disabled = false;
      input.focus();
    }
  }

  async function runClock(step) {
    const data = { as: where.as, step };
    if (step === 'at') data.at = $('#clock-at').value;
    const buttons = $$('[data-step]');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await post('/api/clock', data);
    } catch (e) {
      $('#clock-state').insertAdjacentHTML('beforeend', ' <span class="clock-status failed"></span>');
      $('#clock-state .clock-status.failed:last-child').textContent = e.message;
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  document.addEventListener('click', async (ev) => {
    const close = ev.target.closest('[data-close]');
    if (close) {
      ev.preventDefault();
      closeModal(close.closest('form'), close.dataset.close === 'all');
      return;
    }
    const btn = ev.target.closest('button[data-path]');
    if (btn) {
      ev.preventDefault();
      if (await confirmed(btn)) act(btn, btn.dataset.value ? [btn.dataset.value] : []);
      return;
    }
    const step = ev.target.closest('[data-step]');
    if (step) {
      runClock(step.dataset.step);
      return;
    }
    const chip = ev.target.closest('[data-fill]');
    if (chip) {
      const input = $('#command');
      input.value = chip.dataset.fill;
      input.focus();
    }
  });

  document.addEventListener('change', (ev) => {
    const el = ev.target;
    if (el.id === 'person') {
      const q = new URLSearchParams({ as: el.value });
      if (!where.in.startsWith('D')) q.set('in', where.in);
      window.location.assign('/?' + q);
      return;
    }
    if (!el.dataset || !el.dataset.path) return;
    // In a view, inputs are state sent with the submission; elements
    // outside input blocks act at once, as in messages.
    if (el.closest('.block.input')) return;
    if (el.tagName === 'SELECT' && el.multiple) {
      el.dataset.picked = 'true'; // sent when the pick is done (blur)
      return;
    }
    act(el, valuesOf(el));
  });

  document.addEventListener('focusout', (ev) => {
    const el = ev.target;
    if (el.tagName === 'SELECT' && el.multiple && el.dataset.picked) {
      delete el.dataset.picked;
      act(el, valuesOf(el));
    }
  });

  document.addEventListener('submit', (ev) => {
    const form = ev.target;
    if (form.id === 'composer') {
      ev.preventDefault();
      sendCommand();
    } else if (form.classList.contains('modal')) {
      ev.preventDefault();
      submitModal(form);
    }
  });

  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    const form = $('#modal form.modal');
    if (form && !$('.confirm-overlay')) closeModal(form, false);
  });

  $('#filter').addEventListener('input', filterChannels);

  // Opening the Home tab tells the bot, as Slack does (app_home_opened).
  if (where.tab === 'home') {
    post('/api/home', { as: where.as }).catch((e) => hint(e.message, true));
  }
  scrollDown();
  connect();
})();
