/**
 * The pages' only script (served from /assets/live-chat.js): follows the conversation's event
 * stream and posts messages through the API with the session's CSRF token. Message text is put in
 * the page as text nodes; links are made with createElement and only for http(s) addresses.
 */
export const LIVE_SCRIPT = `(() => {
  const list = document.getElementById('messages');
  if (!list) return;
  const linkPattern = /https?:\\/\\/[^\\s<>"']+/gi;
  function textWithLinks(parent, text, mentions) {
    const names = (mentions || []).map((m) => '@' + m.mentionText);
    let last = 0;
    const add = (s) => { if (s) parent.appendChild(document.createTextNode(s)); };
    const all = [];
    for (const m of text.matchAll(linkPattern)) all.push({ i: m.index, s: m[0], link: true });
    for (const n of names) { let i = text.indexOf(n); while (i >= 0) { all.push({ i, s: n, link: false }); i = text.indexOf(n, i + n.length); } }
    all.sort((a, b) => a.i - b.i);
    for (const t of all) {
      if (t.i < last) continue;
      add(text.slice(last, t.i));
      if (t.link) { const url = t.s.replace(/[.,;:!?)]+$/, ''); const a = document.createElement('a'); a.href = url; a.rel = 'noopener noreferrer nofollow'; a.target = '_blank'; a.textContent = url; parent.appendChild(a); add(t.s.slice(url.length)); }
      else { const b = document.createElement('strong'); b.className = 'mention'; b.textContent = t.s; parent.appendChild(b); }
      last = t.i + t.s.length;
    }
    add(text.slice(last));
  }
  function render(m) {
    let li = document.getElementById('m-' + m.id);
    if (!li) { li = document.createElement('li'); li.id = 'm-' + m.id; li.style.margin = '8px 0'; list.appendChild(li); }
    li.textContent = '';
    const who = document.createElement('strong');
    who.textContent = (m.from.user || m.from.application || {}).displayName || '';
    li.appendChild(who);
    const when = document.createElement('span'); when.className = 'muted'; when.textContent = ' ' + m.createdDateTime.slice(0, 16).replace('T', ' ');
    li.appendChild(when);
    const body = document.createElement('div'); body.className = 'text';
    textWithLinks(body, m.body.content, m.mentions.map((x) => ({ mentionText: x.mentionText })));
    li.appendChild(body);
    for (const a of m.attachments || []) { const d = document.createElement('div'); const l = document.createElement('a'); l.href = new URL(a.contentUrl).pathname; l.textContent = a.name; d.append('📎 ', l); li.appendChild(d); }
  }
  const source = new EventSource(list.dataset.stream);
  source.addEventListener('message', (e) => { const m = JSON.parse(e.data); if (!m.replyToId) render(m); });
  source.addEventListener('messageUpdated', (e) => { const m = JSON.parse(e.data); if (!m.replyToId) render(m); });
  source.addEventListener('messageDeleted', (e) => { const li = document.getElementById('m-' + JSON.parse(e.data).id); if (li) li.querySelector('.text').textContent = '—'; });
  source.addEventListener('presence', (e) => {
    const ul = document.getElementById('presence'); if (!ul) return;
    ul.textContent = '';
    for (const p of JSON.parse(e.data)) { const li = document.createElement('li'); li.textContent = p.displayName; ul.appendChild(li); }
  });
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) document.body.dataset.streamClosed = '1'; };
  const form = document.getElementById('post-form');
  const input = document.getElementById('post-text');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const content = input.value;
    if (!content.trim()) return;
    const res = await fetch(list.dataset.post, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-csrf-token': list.dataset.csrf }, body: JSON.stringify({ body: { contentType: 'text', content } }) });
    if (res.ok) { input.value = ''; render(await res.json()); }
  });
})();
`;
