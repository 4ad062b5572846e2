// symp serve's page in real headless Chromium (Debian's), driven by puppeteer-core, with a WAV file as the
// microphone: click an anchor of the valence-arousal pad, hold the talk button while the "microphone" plays,
// and check that a reply came back, played, and that the page shows the prompt of the point clicked.
// Usage: node page_client.mjs BASE_URL WAV_FILE [CHROMIUM]   (exit 0 when every check holds)
import assert from "node:assert/strict";
import puppeteer from "puppeteer-core";

const [baseUrl, wavPath, chromium = "/usr/bin/chromium"] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: [
    "--no-sandbox",  // tests run as root in CI containers
    // Nothing outside 127.0.0.1 is reachable: no background connections to try.
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-gpu", "--disable-quic",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${wavPath}`,
    "--autoplay-policy=no-user-gesture-required",
  ],
});
const summary = {};
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1024 });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(baseUrl + "/", { waitUntil: "networkidle0" });
  await page.waitForFunction(() => window.sympState && window.sympState.anchors.length === 12);
  const systems = await page.$$eval("#system option", (os) => os.map((o) => o.value));
  assert.deepEqual(systems, ["base", "lora"]);
  await page.select("#system", "lora");

  // Click the "excited" anchor where the page drew it.
  const anchor = await page.evaluate(() => {
    const a = window.sympState.anchors.find((x) => x.emotion === "excited");
    const pad = document.getElementById("pad"), r = pad.getBoundingClientRect();
    return { v: a.valence, a: a.arousal, x: r.left + (a.valence + 1) / 2 * r.width, y: r.top + (1 - (a.arousal + 1) / 2) * r.height };
  });
  await page.mouse.click(anchor.x + 2, anchor.y + 2);
  const shown = await page.$eval("#va", (e) => e.textContent);
  assert.equal(shown, `v=${anchor.v.toFixed(2)}, a=${anchor.a.toFixed(2)}`);

  // Hold to talk for 2 s while the fake microphone plays the WAV.
  const button = await page.$("#record");
  const box = await button.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("listening"), { timeout: 10000 })
    .catch(async () => { throw new Error(`recording did not start; status: ${await page.$eval("#status", (x) => x.textContent)}`); });
  await new Promise((r) => setTimeout(r, 2000));
  await page.mouse.up();
  await page.waitForFunction(() => window.sympState.lastReply !== undefined, { timeout: 120000 });
  const reply = await page.evaluate(() => window.sympState.lastReply);
  const status = await page.$eval("#status", (e) => e.textContent);
  assert.equal(status, "reply received", `status: ${status}`);
  assert.ok(reply.samples > 0, "audio came back");
  assert.equal(reply.prompt, `Please respond in English. User emotion (valence=${anchor.v.toFixed(2)}, arousal=${anchor.a.toFixed(2)})`);
  const ttfa = await page.$eval("#ttfa", (e) => e.textContent);
  assert.match(ttfa, /^\d+\.\d{3} s$/);
  // The reply plays: the page's audio clock runs past the start of the first piece.
  await page.waitForFunction(() => window.sympState.player.currentTime > window.sympState.firstStart + 0.2, { timeout: 30000 })
    .catch(async () => {
      const player = await page.evaluate(() => ({ state: window.sympState.player.state, time: window.sympState.player.currentTime,
                                                  start: window.sympState.firstStart }));
      throw new Error(`nothing played: ${JSON.stringify(player)}`);
    });
  summary.prompt = reply.prompt;
  summary.samples = reply.samples;
  summary.time_to_first_audio = ttfa;

  // N/A switch: the next request carries no condition.
  await page.click("#na");
  assert.equal(await page.$eval("#va", (e) => e.textContent), "N/A");
  assert.deepEqual(errors, []);
} finally {
  await browser.close();
}
console.log(JSON.stringify(summary));
