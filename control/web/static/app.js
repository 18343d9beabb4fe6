// leased dashboard: the actions (through the JSON API), the confirmation
// dialog and the live events. Plain JavaScript, no framework.
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : '';

  function say(text, ok) {
    var m = document.getElementById('message');
    if (!m) { return; }
    m.textContent = text;
    m.className = ok ? 'ok' : 'error';
  }

  // ask opens the confirmation dialog and resolves to true on yes.
  // ask shows the confirmation dialog and resolves to whether its Yes
  // button was chosen. The answer is taken from the form's submit event
  // (or the dialog's cancel event, Escape), which belongs to this
  // question: a close event of an earlier question still on its way
  // cannot answer it.
  function ask(question) {
    return new Promise(function (resolve) {
      var d = document.getElementById('confirm');
      var f = d.querySelector('form');
      document.getElementById('confirm-text').textContent = question;
      function finish(yes) {
        f.removeEventListener('submit', onSubmit);
        d.removeEventListener('cancel', onCancel);
        resolve(yes);
      }
      function onSubmit(ev) { finish(!!ev.submitter && ev.submitter.value === 'yes'); }
      function onCancel() { finish(false); }
      f.addEventListener('submit', onSubmit);
      d.addEventListener('cancel', onCancel);
      d.showModal();
      document.getElementById('confirm-no').focus();
    });
  }

  function api(method, path, body) {
    var opts = { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrf } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { throw new Error(j.error || (r.status + ' ' + r.statusText)); }
        return j;
      });
    });
  }

  // act asks question, and on yes calls the API and says how it went.
  function act(question, method, path, body, done) {
    return ask(question).then(function (yes) {
      if (!yes) { say('Cancelled: nothing was changed.', true); return; }
      return api(method, path, body).then(function (j) {
        say(done(j), true);
        refresh();
      }, function (e) { say(e.message, false); });
    });
  }

  // refresh fetches the page again and replaces the parts marked
  // data-refresh, without reloading it.
  var refreshing = null, again = false;
  function refresh() {
    if (refreshing) { again = true; return refreshing; }
    refreshing = fetch(location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (r) { if (!r.ok && r.status !== 404) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        document.querySelectorAll('[data-refresh][id]').forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh) { el.innerHTML = fresh.innerHTML; }
        });
      })
      .catch(function () {})
      .then(function () {
        refreshing = null;
        if (again) { again = false; refresh(); }
      });
    return refreshing;
  }

  document.addEventListener('click', function (ev) {
    var b = ev.target.closest('button');
    if (!b) { return; }
    var addr = b.getAttribute('data-addr');
    if (b.classList.contains('release')) {
      act('Release the lease of ' + addr + '? The client will be refused at its next renewal.', 'POST',
        '/v1/leases/' + encodeURIComponent(addr) + '/release', undefined,
        function () { return 'Released the lease of ' + addr + '.'; });
    } else if (b.classList.contains('remove')) {
      act('Remove the reservation of ' + addr + '?', 'DELETE', '/v1/reservations/' + encodeURIComponent(addr), undefined,
        function () { return 'Removed the reservation of ' + addr + '.'; });
    } else if (b.id === 'reload') {
      act('Reload the configuration file? A configuration that does not validate is refused and the running one stays.', 'POST',
        '/v1/reload', undefined,
        function (j) { return 'Configuration reloaded' + (j.config && j.config.sha256 ? ' (sha256 ' + j.config.sha256.slice(0, 12) + ')' : '') + '.'; });
    }
  });

  var add = document.getElementById('add-reservation');
  if (add) {
    add.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var body = { address: add.elements.addr.value.trim(), hw_addr: add.elements.hw.value.trim() };
      var host = add.elements.hostname.value.trim();
      if (host) { body.hostname = host; }
      act('Reserve ' + body.address + ' for ' + body.hw_addr + '?', 'POST', '/v1/reservations', body,
        function () { add.reset(); return 'Reserved ' + body.address + ' for ' + body.hw_addr + '.'; });
    });
  }

  // Live events: the overview lists them; the leases page re-fetches
  // its rows.
  var list = document.getElementById('events');
  var leases = document.getElementById('leases');
  if ((list || leases) && window.EventSource) {
    var timer = null;
    var es = new EventSource('/v1/events');
    es.addEventListener('decision', function (m) {
      var e;
      try { e = JSON.parse(m.data); } catch (x) { return; }
      if (list) {
        var li = document.createElement('li');
        li.className = e.reply;
        li.textContent = [e.time.replace('T', ' ').replace(/\.\d+/, ''), e.type, '→', e.reply, e.reason, e.addr || '-', e.hw, e.giaddr ? 'via ' + e.giaddr : ''].join(' ');
        list.insertBefore(li, list.firstChild);
        while (list.children.length > 100) { list.removeChild(list.lastChild); }
      }
      if (leases && !timer) {
        timer = setTimeout(function () { timer = null; refresh(); }, 200);
      }
    });
  }
}());
