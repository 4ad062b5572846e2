// symp serve through OpenAI's official Node SDK: models, a chat completion with audio in and out, the same
// request streamed, the affect condition, and the error objects the SDK turns into exceptions.
// Usage: node openai_client.mjs BASE_URL WAV_FILE   (exit 0 when every check holds; a JSON summary on stdout)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import OpenAI from "openai";

const [baseUrl, wavPath] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: "not-needed", maxRetries: 0 });
const wav = readFileSync(wavPath).toString("base64");
const user = [{ role: "user", content: [{ type: "input_audio", input_audio: { data: wav, format: "wav" } }] }];
const summary = {};

// The systems.
const models = [];
for await (const m of client.models.list()) models.push(m.id);
assert.deepEqual(models, ["base", "lora"]);
summary.models = models;

// A whole reply: text, WAV audio with its transcript, and the resolved condition echoed.
const happy = { model: "lora", modalities: ["text", "audio"], messages: user, max_tokens: 120, seed: 11,
                affect: { emotion: "happy" } };
const reply = await client.chat.completions.create({ ...happy, audio: { voice: "alloy", format: "wav" } });
const message = reply.choices[0].message;
assert.equal(reply.object, "chat.completion");
assert.equal(reply.model, "lora");
assert.equal(typeof message.content, "string");
assert.equal(message.audio.transcript, message.content);
const audio = Buffer.from(message.audio.data, "base64");
assert.equal(audio.subarray(0, 4).toString(), "RIFF");
assert.equal(audio.subarray(8, 12).toString(), "WAVE");
assert.equal(reply.affect.emotion, "happy");
assert.equal(reply.affect.source, "emotion");
assert.match(reply.affect.prompt, /^Please respond in English\. User emotion \(valence=0\.\d\d, arousal=0\.\d\d\)$/);
assert.ok(reply.usage.completion_tokens > 0 && reply.usage.completion_tokens <= 120);
summary.reply = { text: message.content.slice(0, 80), wav_bytes: audio.length, prompt: reply.affect.prompt };

// The same request streamed: text deltas and PCM16 audio deltas, then [DONE] (the SDK ends the iteration).
const stream = await client.chat.completions.create({ ...happy, audio: { voice: "alloy", format: "pcm16" }, stream: true });
let text = "", pcmBytes = 0, chunks = 0, finish = null, firstAffect = null;
for await (const chunk of stream) {
  ++chunks;
  if (chunk.affect) firstAffect = chunk.affect;
  const delta = chunk.choices[0].delta;
  if (delta.content) text += delta.content;
  if (delta.audio && delta.audio.data) pcmBytes += Buffer.from(delta.audio.data, "base64").length;
  if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
}
assert.equal(text, message.content, "the streamed text equals the whole reply's (same seed)");
assert.equal(firstAffect.prompt, reply.affect.prompt);
assert.ok(finish === "stop" || finish === "length");
// The WAV holds a 44-byte header and the same PCM16 samples.
assert.equal(pcmBytes, audio.length - 44);
summary.stream = { chunks, pcm_bytes: pcmBytes, finish };

// Other conditions resolve as symp affect resolves them.
const between = await client.chat.completions.create({
  model: "base", modalities: ["text"], messages: user, max_tokens: 5,
  affect: { interpolate: ["happy", "sad"], t: 0.25 },
});
assert.equal(between.affect.source, "interpolate");
assert.equal(between.choices[0].message.audio, undefined);
const none = await client.chat.completions.create({ model: "base", modalities: ["text"], messages: user, max_tokens: 5,
                                                    affect: { none: true } });
assert.equal(none.affect.prompt, "Please respond in English. User emotion N/A");
summary.conditions = { interpolate: between.affect.label, none: none.affect.prompt };

// Errors arrive as the SDK's typed exceptions with the field named.
async function refusal(body) {
  try {
    await client.chat.completions.create({ model: "lora", messages: user, max_tokens: 5, ...body });
  } catch (e) {
    return e;
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}
const outOfRange = await refusal({ affect: { valence: 3, arousal: 0 } });
assert.ok(outOfRange instanceof OpenAI.BadRequestError);
assert.equal(outOfRange.status, 400);
assert.equal(outOfRange.param, "affect.valence");
const unknownModel = await refusal({ model: "gpt-4o-audio-preview" });
assert.equal(unknownModel.status, 400);
assert.equal(unknownModel.param, "model");
assert.equal(unknownModel.code, "model_not_found");
const badAudio = await refusal({
  messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "@@@@", format: "wav" } }] }],
});
assert.equal(badAudio.param, "messages[0].content[0].input_audio.data");
summary.errors = [outOfRange.param, unknownModel.code, badAudio.code];

console.log(JSON.stringify(summary));
