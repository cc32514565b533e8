// labelaudit review: one page, no dependencies. Every decision is sent to the server and shown
// only once the server has committed it. Every write carries the token the server put in the page.
(function () {
  'use strict';
  var state = {items: [], classes: [], decisions: {}, view: 'one', cursor: 0, history: [], writes: 0};
  var csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  var DIGITS = '0123456789'.split('');
  function $(id) { return document.getElementById(id); }
  function text(value) { return value === null || value === undefined ? '—' : String(value); }

  async function api(method, url, body) {
    var options = {method: method, headers: {}};
    if (method !== 'GET') {
      options.headers['Content-Type'] = 'application/json';
      options.headers['X-CSRF-Token'] = csrfToken;
    }
    if (body !== undefined) options.body = JSON.stringify(body);
    var response = await fetch(url, options);
    var data = await response.json();
    if (!response.ok) throw new Error(data.error || ('HTTP ' + response.status));
    return data;
  }

  function visible() {
    var label = $('filter-class').value, type = $('filter-type').value, open = $('filter-open').checked;
    return state.items.filter(function (item) {
      return (label === '' || String(item.given_label) === label) &&
        (type === '' || item.issue_types.indexOf(type) >= 0) &&
        (!open || !state.decisions[item.row]);
    });
  }

  function current() { return visible()[state.cursor]; }

  function badge(decision) {
    var span = document.createElement('span');
    if (!decision) { span.className = 'badge open'; span.textContent = 'undecided'; return span; }
    span.className = 'badge ' + decision.action;
    span.textContent = decision.action === 'relabel' ? 'relabel → ' + decision.label : decision.action;
    return span;
  }

  function example(item, big) {
    var ex = item.example;
    if (ex && ex.kind === 'image') {
      var img = document.createElement('img');
      img.src = ex.src;
      img.alt = 'example row ' + item.row;
      return img;
    }
    var div = document.createElement('div');
    div.className = 'text';
    div.textContent = ex ? ex.text : '(no example saved)';
    if (!big) div.textContent = div.textContent.slice(0, 80);
    return div;
  }

  function facts(item) {
    var dl = document.createElement('dl');
    dl.className = 'facts';
    var shown = [['row', item.row], ['given label', item.given_label], ['predicted label', item.predicted_label],
     ['score', item.score === null ? null : item.score.toFixed(4)], ['issue', item.issue_types.join(', ')]];
    if (item.path !== undefined) shown.splice(1, 0, ['file', item.path]);
    shown.forEach(function (pair) {
        var dt = document.createElement('dt'), dd = document.createElement('dd');
        dt.textContent = pair[0];
        dd.textContent = text(pair[1]);
        dd.dataset.field = pair[0].replace(' ', '_');
        dl.appendChild(dt);
        dl.appendChild(dd);
      });
    var dt = document.createElement('dt'), dd = document.createElement('dd');
    dt.textContent = 'decision';
    dd.id = 'decision';
    dd.appendChild(badge(state.decisions[item.row]));
    dl.appendChild(dt);
    dl.appendChild(dd);
    return dl;
  }

  function render() {
    var list = visible();
    state.cursor = Math.max(0, Math.min(state.cursor, list.length - 1));
    var decided = state.items.filter(function (i) { return state.decisions[i.row]; }).length;
    $('progress').textContent = 'Decided ' + decided + ' of ' + state.items.length;
    $('progress-bar').style.width = (state.items.length ? 100 * decided / state.items.length : 0) + '%';
    $('shown').textContent = list.length + ' shown';
    $('single').hidden = state.view !== 'one';
    $('grid').hidden = state.view !== 'grid';
    $('toggle-view').textContent = state.view === 'one' ? 'grid view (G)' : 'one at a time (G)';
    var item = list[state.cursor];
    var card = $('card');
    card.replaceChildren();
    if (!item) {
      card.textContent = state.items.length ? 'Nothing matches the filters.' : 'No issues to review.';
    } else {
      card.dataset.row = item.row;
      card.appendChild(example(item, true));
      card.appendChild(facts(item));
    }
    Array.prototype.forEach.call($('classes').children, function (button) {
      button.classList.toggle('suggested', !!item && String(item.predicted_label) === button.dataset.label);
    });
    if (state.view === 'grid') renderGrid(list);
  }

  function renderGrid(list) {
    var grid = $('grid');
    grid.replaceChildren();
    list.forEach(function (item, index) {
      var card = document.createElement('div');
      card.className = 'card' + (index === state.cursor ? ' selected' : '');
      card.dataset.row = item.row;
      card.appendChild(example(item, false));
      var line = document.createElement('div');
      line.textContent = '#' + item.row + ': ' + text(item.given_label) + ' → ' + text(item.predicted_label);
      card.appendChild(line);
      card.appendChild(badge(state.decisions[item.row]));
      card.addEventListener('click', function () { state.cursor = index; render(); });
      grid.appendChild(card);
    });
    var selected = grid.querySelector('.selected');
    if (selected) selected.scrollIntoView({block: 'nearest'});
  }

  function advance(row) {
    var list = visible();
    var at = list.findIndex(function (i) { return i.row === row; });
    if (at < 0) { state.cursor = Math.min(state.cursor, list.length - 1); return; }
    for (var step = 1; step <= list.length; step++) {
      var next = (at + step) % list.length;
      if (!state.decisions[list[next].row]) { state.cursor = next; return; }
    }
    state.cursor = at;
  }

  async function decide(action, label) {
    var item = current();
    if (!item) return;
    if (action === 'relabel' && String(label) === String(item.given_label)) action = 'keep';
    var body = {row: item.row, action: action};
    if (action === 'relabel') body.label = label;
    state.writes += 1;
    try {
      state.decisions[item.row] = await api('POST', '/api/decisions', body);
      state.history.push(item.row);
      $('status').textContent = '';
      advance(item.row);
    } catch (err) {
      $('status').textContent = 'Not saved: ' + err.message;
    }
    render();
  }

  async function undo() {
    var item = current();
    var row = state.history.length ? state.history.pop() : (item && state.decisions[item.row] ? item.row : null);
    if (row === null) return;
    state.writes += 1;
    try {
      await api('DELETE', '/api/decisions/' + row);
      $('status').textContent = '';
    } catch (err) {
      $('status').textContent = 'Undo failed: ' + err.message;
    }
    delete state.decisions[row];
    var at = visible().findIndex(function (i) { return i.row === row; });
    if (at >= 0) state.cursor = at;
    render();
  }

  async function refreshDecisions() {
    var writes = state.writes;
    try {
      var data = await api('GET', '/api/decisions');
      if (writes !== state.writes) return;  // a newer write of ours may not be in this snapshot
      state.decisions = {};
      data.decisions.forEach(function (d) { state.decisions[d.row] = d; });
      render();
    } catch (err) {
      $('status').textContent = 'Server unreachable: ' + err.message;
    }
  }

  function move(step) {
    var list = visible();
    if (!list.length) return;
    state.cursor = (state.cursor + step + list.length) % list.length;
    render();
  }

  // The class a digit key picks: the class named by that digit, else the class at that place.
  function classForKey(key) {
    var named = state.classes.find(function (name) { return String(name) === key; });
    return named !== undefined ? named : state.classes[Number(key)];
  }

  function toggleView() {
    state.view = state.view === 'one' ? 'grid' : 'one';
    render();
    if (state.view === 'grid') refreshDecisions();  // decisions other tabs made meanwhile
  }

  function accept() {
    var item = current();
    if (!item) return;
    if (item.predicted_label === null || String(item.predicted_label) === String(item.given_label)) decide('keep');
    else decide('relabel', item.predicted_label);
  }

  document.addEventListener('keydown', function (event) {
    var tag = event.target.tagName;
    if (event.ctrlKey || event.metaKey || event.altKey || tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
    var key = event.key;
    var handled = true;
    if (key === 'k' || key === 'K') decide('keep');
    else if (key === 'a' || key === 'A') accept();
    else if (key === 'x' || key === 'X' || key === 'Delete') decide('remove');
    else if (key === 'u' || key === 'U') undo();
    else if (key === 'ArrowRight' || key === 'j' || key === 'l') move(1);
    else if (key === 'ArrowLeft' || key === 'h') move(-1);
    else if (key === 'g' || key === 'G') toggleView();
    else if (key === 'r' || key === 'R') $('relabel-any').focus();
    else if (DIGITS.indexOf(key) >= 0 && classForKey(key) !== undefined) decide('relabel', classForKey(key));
    else handled = false;
    if (handled) event.preventDefault();
  });

  function setup(meta) {
    document.title = 'Review: ' + meta.title;
    $('title').textContent = meta.title;
    state.classes = meta.classes;
    meta.classes.forEach(function (name) {
      var option = document.createElement('option');
      option.value = String(name);
      option.textContent = String(name);
      $('filter-class').appendChild(option);
      $('relabel-any').appendChild(option.cloneNode(true));
      var button = document.createElement('button');
      button.type = 'button';
      button.dataset.label = String(name);
      button.textContent = String(name);
      var keys = DIGITS.filter(function (key) { return classForKey(key) === name; });
      if (keys.length) button.title = 'key ' + (keys.indexOf(String(name)) >= 0 ? String(name) : keys[0]);
      button.addEventListener('click', function () { decide('relabel', name); });
      $('classes').appendChild(button);
    });
    meta.issue_types.forEach(function (type) {
      var option = document.createElement('option');
      option.value = type;
      option.textContent = type;
      $('filter-type').appendChild(option);
    });
    $('relabel-any').addEventListener('change', function (event) {
      var value = event.target.value;
      event.target.value = '';
      event.target.blur();
      var name = state.classes.find(function (c) { return String(c) === value; });
      if (name !== undefined) decide('relabel', name);
    });
    ['filter-class', 'filter-type', 'filter-open'].forEach(function (id) {
      $(id).addEventListener('change', function () { state.cursor = 0; $(id).blur(); render(); });
    });
    $('keep').addEventListener('click', function () { decide('keep'); });
    $('accept').addEventListener('click', accept);
    $('remove').addEventListener('click', function () { decide('remove'); });
    $('undo').addEventListener('click', undo);
    $('prev').addEventListener('click', function () { move(-1); });
    $('next').addEventListener('click', function () { move(1); });
    $('toggle-view').addEventListener('click', toggleView);
  }

  async function load() {
    try {
      setup(await api('GET', '/api/meta'));
      var items = [], total = 1;
      while (items.length < total) {
        var page = await api('GET', '/api/issues?offset=' + items.length + '&limit=500');
        total = page.total;
        items = items.concat(page.issues);
        if (!page.issues.length) break;
      }
      state.items = items;
      items.forEach(function (item) { if (item.decision) state.decisions[item.row] = item.decision; });
      var first = items.findIndex(function (item) { return !item.decision; });
      state.cursor = first < 0 ? 0 : first;
      render();
      document.body.dataset.ready = 'true';
      window.addEventListener('focus', refreshDecisions);
      setInterval(refreshDecisions, 5000);
    } catch (err) {
      $('status').textContent = 'Could not load the issues: ' + err.message;
    }
  }

  load();
}());
