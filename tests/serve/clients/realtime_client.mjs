// symp serve's /v1/realtime through the `ws` package, as a Realtime API client speaks it: session.update
// with an affect, PCM16 appended in pieces, commit, response.create with streamed transcript and audio,
// response.cancel, and error events.
// Usage: node realtime_client.mjs BASE_URL WAV_FILE   (16-bit PCM mono WAV; exit 0 when every check holds)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import WebSocket from "ws";

const [baseUrl, wavPath] = process.argv.slice(2);
const wav = readFileSync(wavPath);
// The fmt chunk's rate and the data chunk's samples (the corpus's WAVs are plain 16-bit PCM mono).
let pos = 12, rate = 0, pcm = null;
while (pos + 8 <= wav.length) {
  const id = wav.subarray(pos, pos + 4).toString(), size = wav.readUInt32LE(pos + 4);
  if (id === "fmt ") rate = wav.readUInt32LE(pos + 12);
  if (id === "data") pcm = wav.subarray(pos + 8, pos + 8 + size);
  pos += 8 + size + (size & 1);
}
assert.ok(rate > 0 && pcm, "a PCM WAV");

const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/v1/realtime?model=lora`);
const queue = [], waiters = [];
ws.on("message", (data) => {
  const event = JSON.parse(data.toString());
  const w = waiters.findIndex((x) => x.match(event));
  if (w >= 0) waiters.splice(w, 1)[0].resolve(event); else queue.push(event);
});
// The next event of `type` (earlier events of other types are kept in `seen`).
const seen = [];
function next(type, timeoutMs = 120000) {
  const i = queue.findIndex((e) => e.type === type);
  if (i >= 0) { seen.push(...queue.splice(0, i)); return Promise.resolve(queue.shift()); }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${timeoutMs} ms; got ${JSON.stringify(queue.map((e) => e.type))}`)), timeoutMs);
    waiters.push({ match: (e) => e.type === type || (seen.push(e), false), resolve: (e) => { clearTimeout(timer); resolve(e); } });
  });
}
const send = (event) => ws.send(JSON.stringify(event));
await new Promise((resolve, reject) => { ws.on("open", resolve); ws.on("error", reject); });
const summary = {};

const created = await next("session.created");
assert.equal(created.session.model, "lora");
assert.equal(created.session.affect.prompt, "Please respond in English. User emotion N/A");

send({ type: "session.update", session: { affect: { emotion: "sad" }, input_sample_rate: rate, max_response_output_tokens: 150 } });
const updated = await next("session.updated");
assert.equal(updated.session.affect.emotion, "sad");
assert.equal(updated.session.input_sample_rate, rate);
const outRate = updated.session.output_sample_rate;

// Errors are events; the session goes on.
send({ type: "session.update", session: { affect: { valence: 0, arousal: 9 } } });
let err = await next("error");
assert.equal(err.error.param, "session.affect.arousal");
send({ type: "input_audio_buffer.commit", event_id: "evt-empty" });
err = await next("error");
assert.equal(err.error.code, "input_audio_buffer_commit_empty");
assert.equal(err.error.event_id, "evt-empty");
send({ type: "no.such.event" });
err = await next("error");
assert.equal(err.error.code, "unknown_event");

// The user's turn in 100 ms pieces.
const piece = Math.round(rate / 10) * 2;
for (let i = 0; i < pcm.length; i += piece) send({ type: "input_audio_buffer.append", audio: pcm.subarray(i, i + piece).toString("base64") });
send({ type: "input_audio_buffer.commit" });
await next("input_audio_buffer.committed");

send({ type: "response.create" });
const started = await next("response.created");
assert.equal(started.response.affect.emotion, "sad");
const done = await next("response.done");
const transcriptDone = seen.find((e) => e.type === "response.audio_transcript.done");
const deltas = seen.filter((e) => e.type === "response.audio_transcript.delta" && e.response_id === started.response.id);
const audioBytes = seen.filter((e) => e.type === "response.audio.delta" && e.response_id === started.response.id)
  .reduce((n, e) => n + Buffer.from(e.delta, "base64").length, 0);
assert.equal(done.response.status, "completed");
assert.equal(deltas.map((e) => e.delta).join(""), transcriptDone.transcript);
assert.ok(done.response.usage.output_tokens > 0 && done.response.usage.output_tokens <= 150);
summary.response = { transcript: transcriptDone.transcript.slice(0, 60), audio_seconds: audioBytes / 2 / outRate,
                     first_audio_seconds: done.response.timing.first_audio_seconds };
seen.length = 0;

// A long reply, cancelled as soon as it starts: the server stops it and says so.
send({ type: "session.update", session: { max_response_output_tokens: 100000, temperature: 0 } });
await next("session.updated");
send({ type: "response.create", response: { affect: { valence: 0.5, arousal: -0.5 } } });
const long = await next("response.created");
assert.equal(long.response.affect.valence, 0.5);
send({ type: "response.cancel" });
const cancelled = await next("response.done");
assert.equal(cancelled.response.status, "cancelled");
assert.ok(cancelled.response.usage.output_tokens < 100000);
summary.cancelled_after_tokens = cancelled.response.usage.output_tokens;

ws.close();
console.log(JSON.stringify(summary));
