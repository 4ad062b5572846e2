#include "symp/serve/page.h"

namespace symp::serve {

// The page is plain HTML + JavaScript in one raw string: the anchors come from GET /v1/affect/anchors, the
// systems from GET /v1/models, the reply from POST /v1/chat/completions with "stream": true.
const std::string& page_html() {
  static const std::string page = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>symp serve</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; max-width: 60rem; color: #222; }
  h1 { font-size: 1.3rem; margin: 0 0 1rem; }
  .row { display: flex; gap: 1.5rem; flex-wrap: wrap; align-items: flex-start; }
  #pad { border: 1px solid #888; border-radius: 4px; cursor: crosshair; touch-action: none; }
  #pad.na { opacity: 0.35; }
  .panel { flex: 1; min-width: 18rem; }
  label { display: block; margin: 0.4rem 0; }
  button { font-size: 1rem; padding: 0.5rem 1rem; margin-right: 0.5rem; }
  #record.on { background: #c33; color: #fff; }
  .box { border: 1px solid #ccc; border-radius: 4px; padding: 0.5rem; min-height: 1.5rem; white-space: pre-wrap; }
  .muted { color: #666; font-size: 0.9rem; }
  code { background: #f3f3f3; padding: 0 0.2rem; }
</style>
</head>
<body>
<h1>symp serve: talk to the assistant under a valence-arousal condition</h1>
<div class="row">
  <div>
    <canvas id="pad" width="360" height="360" aria-label="valence-arousal pad"></canvas>
    <div class="muted">valence &rarr; (left negative, right positive), arousal &uarr;. Click or drag; the 12 anchors are clickable.</div>
    <label><input type="checkbox" id="na"> N/A (no condition)</label>
    <div>condition: <code id="va">v=0.00, a=0.00</code></div>
  </div>
  <div class="panel">
    <label>system <select id="system"></select></label>
    <label>API key (only when the server asks for one) <input id="key" type="password" size="24"></label>
    <div>
      <button id="record">Hold to talk</button>
      <button id="upload-btn">Send a WAV file</button><input id="upload" type="file" accept="audio/*" hidden>
    </div>
    <p class="muted" id="status">ready</p>
    <div>reply text</div><div class="box" id="text"></div>
    <div>prompt used</div><div class="box" id="prompt"></div>
    <div>time to first audio: <code id="ttfa">-</code>, total: <code id="total">-</code></div>
    <audio id="player" controls></audio>
  </div>
</div>
<script>
"use strict";
const pad = document.getElementById("pad"), ctx = pad.getContext("2d");
const state = { v: 0, a: 0, na: false, anchors: [], dragging: false };
window.sympState = state;
const $ = (id) => document.getElementById(id);
const toX = (v) => (v + 1) / 2 * pad.width, toY = (a) => (1 - (a + 1) / 2) * pad.height;
const fromX = (x) => Math.max(-1, Math.min(1, x / pad.width * 2 - 1));
const fromY = (y) => Math.max(-1, Math.min(1, 1 - y / pad.height * 2));

function draw() {
  ctx.clearRect(0, 0, pad.width, pad.height);
  ctx.strokeStyle = "#ccc"; ctx.beginPath();
  ctx.moveTo(pad.width / 2, 0); ctx.lineTo(pad.width / 2, pad.height);
  ctx.moveTo(0, pad.height / 2); ctx.lineTo(pad.width, pad.height / 2); ctx.stroke();
  ctx.font = "11px sans-serif";
  for (const an of state.anchors) {
    ctx.fillStyle = "#369"; ctx.beginPath(); ctx.arc(toX(an.valence), toY(an.arousal), 4, 0, 7); ctx.fill();
    ctx.fillText(an.emotion, toX(an.valence) + 6, toY(an.arousal) + 4);
  }
  if (!state.na) {
    ctx.fillStyle = "#c33"; ctx.beginPath(); ctx.arc(toX(state.v), toY(state.a), 7, 0, 7); ctx.fill();
  }
  $("va").textContent = state.na ? "N/A" : `v=${state.v.toFixed(2)}, a=${state.a.toFixed(2)}`;
  pad.classList.toggle("na", state.na);
}
function setPoint(ev) {
  const r = pad.getBoundingClientRect();
  const x = (ev.clientX - r.left) * pad.width / r.width, y = (ev.clientY - r.top) * pad.height / r.height;
  // A click within 8 px of an anchor takes the anchor's exact point.
  let best = null;
  for (const an of state.anchors) {
    const d = Math.hypot(toX(an.valence) - x, toY(an.arousal) - y);
    if (d < 8 && (!best || d < best.d)) best = { an, d };
  }
  state.v = best ? best.an.valence : fromX(x); state.a = best ? best.an.arousal : fromY(y);
  state.emotion = best ? best.an.emotion : null;
  draw();
}
pad.addEventListener("pointerdown", (e) => { state.dragging = true; setPoint(e); });
pad.addEventListener("pointermove", (e) => { if (state.dragging) setPoint(e); });
window.addEventListener("pointerup", () => { state.dragging = false; });
$("na").addEventListener("change", (e) => { state.na = e.target.checked; draw(); });
$("key").value = localStorage.getItem("symp-key") || "";
$("key").addEventListener("change", (e) => localStorage.setItem("symp-key", e.target.value));

function headers() {
  const h = { "Content-Type": "application/json" };
  if ($("key").value) h["Authorization"] = "Bearer " + $("key").value;
  return h;
}
async function init() {
  try {
    const an = await fetch("/v1/affect/anchors", { headers: headers() }).then((r) => r.json());
    state.anchors = an.data || [];
    const models = await fetch("/v1/models", { headers: headers() }).then((r) => r.json());
    for (const m of models.data || []) {
      const o = document.createElement("option"); o.value = m.id; o.textContent = `${m.id} (${m.kind})`;
      $("system").appendChild(o);
    }
    $("status").textContent = "ready";
  } catch (e) { $("status").textContent = "cannot reach the server: " + e; }
  draw();
}

// ---- microphone -> 16-bit WAV ----
let recorder = null;
async function startRecording() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const ac = new AudioContext();
  const src = ac.createMediaStreamSource(stream);
  const proc = ac.createScriptProcessor(4096, 1, 1);
  const chunks = [];
  proc.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
  src.connect(proc); proc.connect(ac.destination);
  recorder = { stream, ac, proc, chunks };
  $("record").classList.add("on"); $("status").textContent = "listening...";
}
async function stopRecording() {
  if (!recorder) return;
  const { stream, ac, proc, chunks } = recorder; recorder = null;
  proc.disconnect(); stream.getTracks().forEach((t) => t.stop());
  $("record").classList.remove("on");
  const n = chunks.reduce((s, c) => s + c.length, 0), pcm = new Float32Array(n);
  let o = 0; for (const c of chunks) { pcm.set(c, o); o += c.length; }
  const rate = ac.sampleRate; await ac.close();
  await send(wavBytes(pcm, rate));
}
function wavBytes(pcm, rate) {
  const buf = new ArrayBuffer(44 + pcm.length * 2), dv = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) dv.setUint8(o + i, s.charCodeAt(i)); };
  str(0, "RIFF"); dv.setUint32(4, 36 + pcm.length * 2, true); str(8, "WAVE"); str(12, "fmt ");
  dv.setUint32(16, 16, true); dv.setUint16(20, 1, true); dv.setUint16(22, 1, true);
  dv.setUint32(24, rate, true); dv.setUint32(28, rate * 2, true); dv.setUint16(32, 2, true);
  dv.setUint16(34, 16, true); str(36, "data"); dv.setUint32(40, pcm.length * 2, true);
  for (let i = 0; i < pcm.length; i++) dv.setInt16(44 + i * 2, Math.max(-1, Math.min(1, pcm[i])) * 32767, true);
  return new Uint8Array(buf);
}
function toBase64(bytes) {
  let s = ""; for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
$("record").addEventListener("pointerdown", () => startRecording().catch((e) => { $("status").textContent = "microphone: " + e; }));
$("record").addEventListener("pointerup", () => stopRecording());
$("upload-btn").addEventListener("click", () => $("upload").click());
$("upload").addEventListener("change", async (e) => {
  const f = e.target.files[0]; if (f) await send(new Uint8Array(await f.arrayBuffer()));
});

// ---- the request, streamed; PCM16 pieces are scheduled back to back as they come ----
async function send(wav) {
  $("text").textContent = ""; $("prompt").textContent = ""; $("ttfa").textContent = "-"; $("total").textContent = "-";
  $("status").textContent = "thinking...";
  const affect = state.na ? { none: true } : { valence: state.v, arousal: state.a };
  const body = { model: $("system").value, modalities: ["text", "audio"], audio: { format: "pcm16" }, stream: true,
    affect, messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: toBase64(wav), format: "wav" } }] }] };
  const t0 = performance.now();
  const res = await fetch("/v1/chat/completions", { method: "POST", headers: headers(), body: JSON.stringify(body) });
  if (!res.ok) { const err = await res.json().catch(() => ({})); $("status").textContent = "error: " + ((err.error || {}).message || res.status); return; }
  const ac = new AudioContext(); let at = ac.currentTime + 0.05; const pieces = [];
  state.player = ac; state.firstStart = undefined;
  const reader = res.body.getReader(), dec = new TextDecoder(); let buf = "";
  for (;;) {
    const { value, done } = await reader.read(); if (done) break;
    buf += dec.decode(value, { stream: true });
    let k;
    while ((k = buf.indexOf("\n\n")) >= 0) {
      const line = buf.slice(0, k).trim(); buf = buf.slice(k + 2);
      if (!line.startsWith("data: ")) continue;
      const data = line.slice(6); if (data === "[DONE]") continue;
      const ev = JSON.parse(data);
      if (ev.error) { $("status").textContent = "error: " + ev.error.message; continue; }
      if (ev.affect) $("prompt").textContent = ev.affect.prompt;
      const d = ((ev.choices || [])[0] || {}).delta || {};
      if (d.content) $("text").textContent += d.content;
      if (d.audio && d.audio.data) {
        if ($("ttfa").textContent === "-") $("ttfa").textContent = ((performance.now() - t0) / 1000).toFixed(3) + " s";
        const raw = atob(d.audio.data), n = raw.length / 2, f = new Float32Array(n);
        for (let i = 0; i < n; i++) { let s = raw.charCodeAt(2 * i) | (raw.charCodeAt(2 * i + 1) << 8); if (s >= 32768) s -= 65536; f[i] = s / 32768; }
        pieces.push(f);
        const b = ac.createBuffer(1, n, ev.audio_sample_rate || 22050); b.copyToChannel(f, 0);
        const node = ac.createBufferSource(); node.buffer = b; node.connect(ac.destination);
        at = Math.max(at, ac.currentTime); node.start(at);
        if (state.firstStart === undefined) state.firstStart = at;
        at += b.duration;
      }
    }
  }
  $("total").textContent = ((performance.now() - t0) / 1000).toFixed(3) + " s";
  $("status").textContent = pieces.length ? "reply received" : "reply received (no audio)";
  state.lastReply = { text: $("text").textContent, prompt: $("prompt").textContent, samples: pieces.reduce((s, p) => s + p.length, 0) };
}
init();
</script>
</body>
</html>
)HTML";
  return page;
}

}  // namespace symp::serve
