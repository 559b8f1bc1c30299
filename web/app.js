// The mengtu playground. Plain ES modules, no build, nothing loaded from outside this server.
// Generation goes through the signed API (async pair + the task's progress stream), signed in this tab.
import { STRINGS } from './i18n.js';
import { signHeaders } from './sign.js';

const $ = (id) => document.getElementById(id);
const API_VERSION = '2022-08-31';
const REQ_KEY = 'jimeng_high_aes_general_v21_L';
const SIZES = [
  ['1:1', 512, 512], ['1:1', 768, 768], ['1:1', 1024, 1024], ['4:3', 768, 576], ['3:4', 576, 768],
  ['16:9', 1024, 576], ['9:16', 576, 1024], ['3:2', 768, 512], ['2:3', 512, 768],
];

/** CSS families for the server's faces (src/typography/fonts.ts), loaded from /playground/fonts. */
const FACES = {
  sans: '"Noto Sans SC", sans-serif', 'sans-bold': '"Noto Sans SC", sans-serif', serif: '"Noto Serif SC", serif', 'serif-bold': '"Noto Serif SC", serif',
  brush: '"Ma Shan Zheng", "Kaushan Script", cursive', handwriting: '"Kalam", "Ma Shan Zheng", cursive', rounded: '"ZCOOL KuaiLe", sans-serif',
  script: '"Kaushan Script", cursive', display: '"Bebas Neue", "Noto Sans SC", sans-serif',
};

const state = {
  lang: localStorage.getItem('mengtu.lang') || (navigator.language.startsWith('zh') ? 'zh' : 'en'),
  config: { region: 'cn-north-1', service: 'cv', auth: true, model: '', defaults: null, schedulers: ['euler', 'euler_a', 'ddim', 'lcm'] },
  lastSeed: null,
  gallery: [],
  running: false,
  layoutSeq: 0,
  current: null,
};

// ---------- i18n ----------
const t = (key, vars = {}) => (STRINGS[state.lang][key] ?? STRINGS.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? '');
function applyLang() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  $('lang').textContent = state.lang === 'zh' ? 'EN' : '中文';
  renderKeyButton();
  refreshLayout();
}

// ---------- key (sessionStorage of this tab only) ----------
function getKey() {
  try {
    const k = JSON.parse(sessionStorage.getItem('mengtu.key') || 'null');
    return k && k.ak && k.sk ? k : null;
  } catch {
    return null;
  }
}
function renderKeyButton() {
  const k = getKey();
  $('key-button').classList.toggle('ok', !!k);
  $('key-label').textContent = k ? `${k.ak.slice(0, 8)}… · ${t('keyReady')}` : t('enterKey');
}
function openKeyDialog() {
  const k = getKey();
  $('ak').value = k?.ak ?? '';
  $('sk').value = k?.sk ?? '';
  $('key-dialog').showModal();
}

// ---------- signed API calls ----------
async function signed(method, path, rawQuery, body) {
  const k = getKey();
  if (!k && state.config.auth) throw new Error(t('needKey'));
  const headers = { 'Content-Type': 'application/json' };
  if (k) Object.assign(headers, await signHeaders({ accessKeyId: k.ak, secretAccessKey: k.sk, region: state.config.region, service: state.config.service }, { method, path, rawQuery, body }));
  return { url: `${path}${rawQuery ? `?${rawQuery}` : ''}`, init: { method, headers, ...(method === 'GET' ? {} : { body }) } };
}

/** Calls an Action; returns data or throws with the server's code and message. */
async function action(name, payload) {
  const body = JSON.stringify(payload);
  const { url, init } = await signed('POST', '/', `Action=${name}&Version=${API_VERSION}`, body);
  const res = await fetch(url, init);
  const json = await res.json().catch(() => ({}));
  const err = json.ResponseMetadata?.Error;
  if (err) throw new Error(`${err.Code}: ${err.Message}`);
  if (json.code !== 10000) throw new Error(`${json.code ?? res.status} ${json.message ?? ''}`.trim());
  return json.data;
}

// ---------- form → request ----------
function currentSize() {
  return { width: Number($('width').value), height: Number($('height').value) };
}
function outputSize() {
  const { width, height } = currentSize();
  const k = $('use_sr').checked ? 2 : 1;
  return { width: width * k, height: height * k };
}
function logoInfo() {
  if (!$('add_logo').checked) return null;
  return {
    add_logo: true,
    position: Number(document.querySelector('#corners .on')?.dataset.pos ?? 0),
    language: Number($('logo_language').value),
    opacity: Number($('logo_opacity').value),
    logo_text_content: $('logo_text').value,
  };
}
/** The CVProcess body these settings describe (the same for the snippets). */
function requestBody() {
  const body = { req_key: REQ_KEY, prompt: $('prompt').value, seed: Number($('seed').value), ...currentSize() };
  const neg = $('negative').value.trim();
  if (neg) body.negative_prompt = neg;
  const d = state.config.defaults;
  const steps = Number($('steps').value);
  const guidance = Number($('guidance').value);
  const scheduler = $('scheduler').value;
  // Only what differs from the model's defaults is sent, so snippets stay short and official-SDK friendly.
  if (!d || steps !== d.steps) body.steps = steps;
  if (!d || guidance !== d.guidanceScale) body.guidance_scale = guidance;
  if (scheduler && (!d || scheduler !== d.scheduler)) body.scheduler = scheduler;
  body.use_sr = $('use_sr').checked;
  body.use_pre_llm = $('use_pre_llm').checked;
  body.return_url = $('return_url').checked;
  const logo = logoInfo();
  if (logo) body.logo_info = logo;
  return body;
}

// ---------- sizes ----------
function renderSizes() {
  const box = $('sizes');
  box.innerHTML = '';
  for (const [label, w, h] of SIZES) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.w = w;
    b.dataset.h = h;
    const s = 14 / Math.max(w, h);
    b.innerHTML = `<span class="shape" style="width:${Math.round(w * s)}px;height:${Math.round(h * s)}px"></span>${label} <span class="muted">${w}×${h}</span>`;
    b.addEventListener('click', () => {
      $('width').value = w;
      $('height').value = h;
      sizeChanged();
    });
    box.appendChild(b);
  }
}
function sizeChanged() {
  const { width, height } = currentSize();
  for (const b of $('sizes').children) b.classList.toggle('on', Number(b.dataset.w) === width && Number(b.dataset.h) === height);
  $('canvas').style.aspectRatio = `${width} / ${height}`;
  const out = outputSize();
  $('out-size').textContent = t('outSize', { w: out.width, h: out.height });
  refreshLayout();
}

// ---------- layout boxes as you type ----------
let layoutTimer = 0;
function refreshLayout() {
  clearTimeout(layoutTimer);
  layoutTimer = setTimeout(drawLayout, 120);
}
async function drawLayout() {
  const seq = ++state.layoutSeq;
  const prompt = $('prompt').value;
  const { width, height } = outputSize();
  $('empty').hidden = prompt.trim() !== '' || !$('result').hidden;
  if (!prompt.trim()) {
    $('boxes').innerHTML = '';
    $('plan').innerHTML = '';
    return;
  }
  const res = await fetch('/playground/layout', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt, width, height }) });
  if (seq !== state.layoutSeq || !res.ok) return;
  const plan = await res.json();
  const boxes = $('boxes');
  boxes.innerHTML = '';
  const cw = $('canvas').clientWidth;
  plan.blocks.forEach((b, i) => {
    const el = document.createElement('div');
    el.className = 'box';
    el.dataset.text = b.text;
    Object.assign(el.style, { left: `${(b.box.x / width) * 100}%`, top: `${(b.box.y / height) * 100}%`, width: `${(b.box.w / width) * 100}%`, height: `${(b.box.h / height) * 100}%` });
    const txt = document.createElement('span');
    txt.className = 'txt';
    txt.textContent = b.vertical ? [...b.text].join('\n') : b.laidOutLines.map((l) => l.text).join('\n');
    txt.style.fontSize = `${Math.max(8, (b.fontSize / width) * cw * 0.9)}px`;
    txt.style.color = b.color.name === 'auto' ? '#1f1d1a' : b.color.hex;
    txt.style.fontWeight = b.font.includes('bold') || b.size === 'title' ? '700' : '400';
    txt.style.fontFamily = FACES[b.font] ?? FACES.sans;
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = String(i + 1);
    el.append(txt, badge);
    boxes.appendChild(el);
  });
  renderPlanCards(plan);
}
function renderPlanCards(plan) {
  const cue = (words) => (words.length ? `<span class="cue">${t('fromWords')} ${words.map((w) => `“${esc(w)}”`).join(' ')}</span>` : `<span class="k">${t('defaulted')}</span>`);
  $('plan').innerHTML = plan.blocks
    .map(
      (b, i) => `<div class="card"><b>${i + 1}. ${esc(b.text)}</b>
      <div><span class="k">${t('where')}</span> ${b.position.v} ${b.position.h}${b.vertical ? ` · ${t('vertical')}` : ''} ${cue([...b.cues.position, ...b.cues.vertical])}</div>
      <div><span class="k">${t('fontSize')}</span> ${b.size} · ${b.fontSize}px ${cue(b.cues.size)}</div>
      <div><span class="k">${t('colour')}</span> <span class="swatch" style="background:${b.color.name === 'auto' ? 'linear-gradient(135deg,#fff 50%,#000 50%)' : b.color.hex}"></span> ${b.color.name === 'auto' ? 'auto' : esc(b.color.name)} ${cue(b.cues.color)}</div>
      <div><span class="k">${t('style')}</span> ${b.style.join(' + ') || 'plain'} · ${b.font} ${cue(b.cues.style)}</div></div>`,
    )
    .join('');
}
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

// ---------- progress ----------
const fmtMs = (ms) => (ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s` : `${(ms / 1000).toFixed(1)}s`);
function showProgress(ev) {
  $('progress').hidden = false;
  if (ev.status === 'in_queue') {
    $('p-stage').textContent = t('queued');
    $('p-step').textContent = ev.position ? t('position', { n: ev.position }) : '';
    $('bar-fill').style.width = '2%';
  } else if (ev.stage) {
    $('p-stage').textContent = t(`stage_${ev.stage}`);
    $('p-step').textContent = ev.total_steps ? t('step', { i: ev.step, n: ev.total_steps }) : '';
    if (ev.total_steps) $('bar-fill').style.width = `${Math.max(4, Math.round((ev.step / ev.total_steps) * 92))}%`;
  }
  const parts = [];
  if (ev.elapsed_ms !== undefined) parts.push(t('elapsed', { s: fmtMs(ev.elapsed_ms) }));
  if (ev.eta_ms !== undefined && ev.eta_ms !== null) parts.push(t('remaining', { s: fmtMs(ev.eta_ms) }));
  $('p-time').textContent = parts.join(' · ');
}
function showPreview(src) {
  const canvas = $('canvas');
  // How many step previews this run showed (a designer sees them; the browser test counts them).
  canvas.dataset.previews = String(Number(canvas.dataset.previews || 0) + 1);
  const img = $('result');
  img.src = src;
  img.hidden = false;
  img.classList.add('preview');
  $('canvas').classList.add('has-preview');
  $('empty').hidden = true;
}

/** A fresh progress_id: the task's stream is opened with it before the task is submitted. */
function newProgressId() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return `pg-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Opens a task's Server-Sent Events (by its task_id, or by the progress_id it is submitted with) through a
 * signed fetch (EventSource cannot sign); null when the server has no progress stream (an older server).
 */
async function openTaskStream(id, reqJson, signal) {
  const rawQuery = reqJson ? `req_json=${encodeURIComponent(reqJson)}` : '';
  const { url, init } = await signed('GET', `/v1/tasks/${encodeURIComponent(id)}/events`, rawQuery, '');
  const res = await fetch(url, { ...init, signal, headers: { ...init.headers, Accept: 'text/event-stream' } });
  if (res.status === 404) return null;
  if (!res.ok || !res.body) {
    const j = await res.json().catch(() => ({}));
    throw new Error(j.ResponseMetadata?.Error?.Message ?? j.message ?? `HTTP ${res.status}`);
  }
  return res;
}

/** Reads a task's stream to its end: shows its progress and previews, resolves to the result envelope. */
async function readTaskStream(res) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('progress stream ended early');
    buf += value;
    let cut;
    while ((cut = buf.indexOf('\n\n')) !== -1) {
      const raw = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let event = 'message';
      let data = '';
      for (const line of raw.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      if (!data) continue;
      const payload = JSON.parse(data);
      if (event === 'queued' || event === 'progress') showProgress(payload);
      else if (event === 'preview') showPreview(payload.image);
      else if (event === 'done') return payload;
      else if (event === 'error') throw new Error(`${payload.code} ${payload.message}`);
    }
  }
}

/** Without a progress stream (an older server): CVSync2AsyncGetResult every 500 ms, the source of truth. */
async function pollTask(taskId, reqJson) {
  const t0 = performance.now();
  for (;;) {
    const data = await action('CVSync2AsyncGetResult', { req_key: REQ_KEY, task_id: taskId, req_json: reqJson });
    if (data.status === 'done') return { code: 10000, data };
    if (data.status === 'not_found' || data.status === 'expired') throw new Error(`task ${data.status}`);
    showProgress({ status: data.status, stage: data.status === 'generating' ? 'generate' : undefined, elapsed_ms: performance.now() - t0 });
    await new Promise((r) => setTimeout(r, 500));
  }
}

// ---------- generate ----------
async function generate(ev) {
  ev?.preventDefault();
  if (state.running) return;
  const err = $('form-error');
  err.hidden = true;
  if (!getKey() && state.config.auth) {
    openKeyDialog();
    return;
  }
  const body = requestBody();
  state.running = true;
  $('generate').disabled = true;
  $('progress').hidden = false;
  $('p-stage').textContent = t('submitting');
  $('p-step').textContent = '';
  $('p-time').textContent = '';
  $('bar-fill').style.width = '1%';
  $('canvas').dataset.previews = '0';
  const t0 = performance.now();
  try {
    const { return_url, logo_info, ...submit } = body;
    const reqJson = JSON.stringify({ return_url, ...(logo_info ? { logo_info } : {}) });
    // The stream opens first, by a progress_id the submit then carries: it sees the task from its first
    // event, however fast the picture is made.
    const progressId = newProgressId();
    const stop = new AbortController();
    const stream = await openTaskStream(progressId, reqJson, stop.signal);
    let taskId;
    try {
      taskId = (await action('CVSync2AsyncSubmitTask', { ...submit, progress_id: progressId })).task_id;
    } catch (e) {
      stop.abort();
      throw e;
    }
    const envelope = stream ? await readTaskStream(stream) : await pollTask(taskId, reqJson);
    const data = envelope.data;
    const src = data.image_urls?.[0] ?? `data:image/png;base64,${data.binary_data_base64[0]}`;
    const seed = data.infer_ctx?.params?.seed ?? body.seed;
    state.lastSeed = seed;
    $('seed-reuse').disabled = false;
    const img = $('result');
    img.classList.remove('preview');
    img.src = src;
    img.hidden = false;
    $('canvas').classList.add('has-result');
    $('bar-fill').style.width = '100%';
    $('p-stage').textContent = t('done');
    $('p-step').textContent = `seed ${seed}`;
    $('p-time').textContent = fmtMs(performance.now() - t0);
    addToGallery({ src, body: { ...body, seed }, data, taskId, ms: performance.now() - t0 });
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
    $('p-stage').textContent = t('failed');
  } finally {
    state.running = false;
    $('generate').disabled = false;
  }
}

// ---------- gallery and details ----------
function addToGallery(item) {
  state.gallery.unshift(item);
  renderGallery();
}
function renderGallery() {
  const list = $('gallery-list');
  if (state.gallery.length === 0) {
    list.innerHTML = `<p class="hint">${t('noResults')}</p>`;
    return;
  }
  list.innerHTML = '';
  state.gallery.forEach((item, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'item';
    b.innerHTML = `<img alt="" src="${esc(item.src)}"><span>${esc(item.body.prompt)}</span>`;
    b.addEventListener('click', () => openDetail(i));
    list.appendChild(b);
  });
}
function openDetail(i) {
  const item = state.gallery[i];
  state.current = item;
  $('detail-img').src = item.src;
  const p = item.data.infer_ctx?.params ?? {};
  const rows = [
    ['prompt', item.body.prompt], ['negative_prompt', item.body.negative_prompt ?? ''], ['seed', item.body.seed],
    ['size', `${item.body.width}×${item.body.height}${item.body.use_sr ? ' → ×2' : ''}`],
    ['steps', item.body.steps ?? p.ddim_steps ?? ''], ['guidance_scale', item.body.guidance_scale ?? state.config.defaults?.guidanceScale ?? ''],
    ['scheduler', item.body.scheduler ?? state.config.defaults?.scheduler ?? ''], ['use_sr', item.body.use_sr], ['use_pre_llm', item.body.use_pre_llm],
    ['return_url', item.body.return_url], ['logo_info', item.body.logo_info ? JSON.stringify(item.body.logo_info) : '—'],
    ['model', state.config.model], ['task_id', item.taskId], ['time', fmtMs(item.ms)],
  ];
  if (item.data.rephraser_result) rows.splice(2, 0, ['rephraser_result', item.data.rephraser_result]);
  $('detail-params').innerHTML = rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('');
  const dl = $('detail-download');
  dl.href = item.src;
  dl.download = `mengtu-${item.body.seed}.png`;
  showSnippet(document.querySelector('.tabs .on')?.dataset.snippet ?? 'curl');
  $('detail-dialog').showModal();
}

function pyLiteral(v, indent = '') {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  const inner = indent + '    ';
  return `{\n${Object.entries(v).map(([k, x]) => `${inner}${JSON.stringify(k)}: ${pyLiteral(x, inner)},`).join('\n')}\n${indent}}`;
}
const shq = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

async function snippetText(kind, item) {
  const body = item.body;
  const origin = location.origin;
  if (kind === 'curl') {
    const text = JSON.stringify(body);
    const { init } = await signed('POST', '/', `Action=CVProcess&Version=${API_VERSION}`, text);
    const h = init.headers;
    return {
      note: t('curlNote'),
      text: [
        `curl -sS ${shq(`${origin}/?Action=CVProcess&Version=${API_VERSION}`)} \\`,
        `  -H 'Content-Type: application/json' \\`,
        `  -H ${shq(`X-Date: ${h['X-Date']}`)} \\`,
        `  -H ${shq(`X-Content-Sha256: ${h['X-Content-Sha256']}`)} \\`,
        `  -H ${shq(`Authorization: ${h.Authorization}`)} \\`,
        `  --data-raw ${shq(text)}`,
      ].join('\n'),
    };
  }
  if (kind === 'python') {
    return {
      note: t('sdkNote'),
      text: `import base64, os
from volcengine.visual.VisualService import VisualService

svc = VisualService()
svc.set_host(${JSON.stringify(location.host)})
svc.set_scheme(${JSON.stringify(location.protocol.replace(':', ''))})
svc.set_ak(os.environ["MENGTU_AK"])
svc.set_sk(os.environ["MENGTU_SK"])
resp = svc.cv_process(${pyLiteral(body)})
${body.return_url ? 'print(resp["data"]["image_urls"][0])' : `open("mengtu-${body.seed}.png", "wb").write(base64.b64decode(resp["data"]["binary_data_base64"][0]))`}`,
    };
  }
  const { req_key, return_url, ...input } = body;
  return {
    note: t('sdkNote'),
    text: `import { writeFile } from 'node:fs/promises';
import { MengtuClient } from 'mengtu/client';

const client = new MengtuClient({
  endpoint: ${JSON.stringify(origin)},
  accessKeyId: process.env.MENGTU_AK!,
  secretAccessKey: process.env.MENGTU_SK!,
});
const { image } = await client.generateImage(${JSON.stringify(input, null, 2)});
await writeFile('mengtu-${body.seed}.png', image);`,
  };
}
async function showSnippet(kind) {
  for (const b of document.querySelectorAll('.tabs button')) b.classList.toggle('on', b.dataset.snippet === kind);
  const s = await snippetText(kind, state.current);
  $('snippet').textContent = s.text;
  $('snippet').dataset.kind = kind;
  $('snippet-note').textContent = s.note;
}
function toast(msg) {
  const el = $('toast');
  el.textContent = msg;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), 1600);
}
async function copySnippet() {
  // Re-signed at copy time so the pasted curl has the whole validity window.
  const kind = $('snippet').dataset.kind;
  const s = await snippetText(kind, state.current);
  $('snippet').textContent = s.text;
  try {
    await navigator.clipboard.writeText(s.text);
  } catch {
    const r = document.createRange();
    r.selectNodeContents($('snippet'));
    getSelection().removeAllRanges();
    getSelection().addRange(r);
    document.execCommand('copy');
  }
  toast(t('copied'));
}
function useSettings() {
  const b = state.current.body;
  $('prompt').value = b.prompt;
  $('negative').value = b.negative_prompt ?? '';
  $('seed').value = b.seed;
  $('width').value = b.width;
  $('height').value = b.height;
  if (b.steps !== undefined) $('steps').value = b.steps;
  if (b.guidance_scale !== undefined) $('guidance').value = b.guidance_scale;
  if (b.scheduler) $('scheduler').value = b.scheduler;
  $('use_sr').checked = b.use_sr;
  $('use_pre_llm').checked = b.use_pre_llm;
  $('return_url').checked = b.return_url;
  $('add_logo').checked = !!b.logo_info;
  syncOutputs();
  sizeChanged();
  $('detail-dialog').close();
}

// ---------- sampling defaults ----------
function resetSampling() {
  const d = state.config.defaults;
  if (d) {
    $('steps').value = d.steps;
    $('guidance').value = d.guidanceScale;
    $('scheduler').value = d.scheduler ?? state.config.schedulers[0];
  }
  syncOutputs();
}
function syncOutputs() {
  $('steps-out').textContent = $('steps').value;
  $('guidance-out').textContent = Number($('guidance').value).toFixed(1);
  $('opacity-out').textContent = `${Math.round(Number($('logo_opacity').value) * 100)}%`;
}

// ---------- start ----------
async function init() {
  try {
    state.config = { ...state.config, ...(await (await fetch('/playground/config.json')).json()) };
  } catch {
    /* defaults above */
  }
  $('model-chip').textContent = state.config.model ? `model · ${state.config.model}` : '';
  $('scheduler').innerHTML = state.config.schedulers.map((s) => `<option value="${s}">${s}</option>`).join('');
  if (state.config.limits) $('steps').max = state.config.limits.stepsMax;
  renderSizes();
  resetSampling();
  applyLang();
  sizeChanged();

  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem('mengtu.lang', state.lang);
    applyLang();
    renderGallery();
  });
  $('key-button').addEventListener('click', openKeyDialog);
  $('key-form').addEventListener('submit', () => {
    sessionStorage.setItem('mengtu.key', JSON.stringify({ ak: $('ak').value.trim(), sk: $('sk').value.trim() }));
    renderKeyButton();
  });
  $('key-forget').addEventListener('click', () => {
    sessionStorage.removeItem('mengtu.key');
    renderKeyButton();
    $('key-dialog').close();
  });
  $('prompt').addEventListener('input', () => {
    $('result').hidden = true;
    $('canvas').classList.remove('has-result');
    refreshLayout();
  });
  $('prompt').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) generate(e);
  });
  for (const id of ['width', 'height']) $(id).addEventListener('change', sizeChanged);
  $('use_sr').addEventListener('change', sizeChanged);
  for (const id of ['steps', 'guidance', 'logo_opacity']) $(id).addEventListener('input', syncOutputs);
  $('seed-random').addEventListener('click', () => ($('seed').value = -1));
  $('seed-reuse').addEventListener('click', () => state.lastSeed !== null && ($('seed').value = state.lastSeed));
  $('reset-sampling').addEventListener('click', resetSampling);
  for (const b of document.querySelectorAll('#corners button')) {
    b.addEventListener('click', () => {
      for (const o of document.querySelectorAll('#corners button')) o.classList.toggle('on', o === b);
      $('add_logo').checked = true;
    });
  }
  $('form').addEventListener('submit', generate);
  $('clear').addEventListener('click', () => {
    state.gallery = [];
    renderGallery();
  });
  for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => showSnippet(b.dataset.snippet));
  $('copy-snippet').addEventListener('click', copySnippet);
  $('detail-close').addEventListener('click', () => $('detail-dialog').close());
  $('detail-reuse').addEventListener('click', useSettings);
  window.addEventListener('resize', refreshLayout);
  if (!getKey() && state.config.auth) openKeyDialog();
}

init();
