// The dashboard in a real browser against the real server: headless Chromium (the system
// package), driven by playwright-core, talking to `aimara serve` on 127.0.0.1 with a fresh store
// and a generated deterministic model.
//
// The page submits an upload, watches the job go through its stages live (server-sent events,
// no reload), opens the job's transcript and searches for a word of it; against a server that
// wants a bearer token, it asks for the token, keeps it and sends it. Screenshots go to
// AIMARA_ARTIFACTS_DIR (CTest: <build>/test-artifacts/dashboard_browser_test).
//
// Environment (set by CTest, tests/node/CMakeLists.txt):
//   AIMARA_BINARY        the aimara binary
//   AIMARA_SHARED_DIR    the shared test data (media, VAD model)
//   AIMARA_ARTIFACTS_DIR where screenshots go
//   AIMARA_CHROMIUM      the browser (default /usr/bin/chromium)
//
// Run by hand: cd tests/node && npm ci && AIMARA_BINARY=../../build/release/aimara node --test
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch (e) {
  throw new Error(`playwright-core is not installed: run \`npm ci\` in tests/node (scripts/bootstrap does) (${e.message})`);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
const binary = process.env.AIMARA_BINARY || path.join(repo, "build", "release", "aimara");
const shared = process.env.AIMARA_SHARED_DIR || path.resolve(repo, "..", "shared");
const artifacts = process.env.AIMARA_ARTIFACTS_DIR ||
  path.join(path.dirname(binary), "test-artifacts", "dashboard_browser_test");
const browserPath = process.env.AIMARA_CHROMIUM || "/usr/bin/chromium";
const media = path.join(shared, "media", "fw_multilingual.mp3"); // 60 s: two chunks, a few seconds of work
const vadModel = path.join(shared, "models", "silero-v6.2.0-ggml.bin");

const execFileAsync = promisify(execFile);

let work;        // the test's own temporary folder
let model;       // the generated model
let base;        // http://127.0.0.1:PORT of the server without a token
let browser;
const servers = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Starts `aimara serve` on a free loopback port with a fresh store; resolves once /healthz answers.
async function startServer(name, extraArgs = []) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(binary, [
    "serve",
    "--listen", `127.0.0.1:${port}`,
    "--store", `sqlite:${path.join(dir, "aimara.db")}`,
    "--data-dir", path.join(dir, "data"),
    "-m", model,
    "--vad-model", vadModel,
    "--workers", "1",
    ...extraArgs,
  ], {
    cwd: dir,
    env: { ...process.env, XDG_CACHE_HOME: path.join(dir, "cache"), AIMARA_TOKEN: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const server = { proc, url, log: "" };
  servers.push(server);
  const keep = (chunk) => { server.log = (server.log + chunk).slice(-20000); };
  proc.stdout.on("data", keep);
  proc.stderr.on("data", keep);

  const until = Date.now() + 30000;
  let last = "";
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`aimara serve exited with ${proc.exitCode}:\n${server.log}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return server;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`aimara serve did not become healthy (${last}):\n${server.log}`);
}

async function api(p) {
  const res = await fetch(base + p, { signal: AbortSignal.timeout(10000) });
  assert.equal(res.status, 200, `GET ${p}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0)); // the sticky bar would cut a full-page shot
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

// Script errors and failed requests the page logs; a 404 for a job's media is expected (a server
// that keeps none), and so are the 401s of the token test.
function watchErrors(page, { allow = [] } = {}) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    const where = m.location().url || "";
    if (m.type() === "error" && ![/\/media(\?|$)/, ...allow].some((re) => re.test(where) || re.test(m.text()))) {
      errors.push(`console: ${m.text()} (${where})`);
    }
  });
  return errors;
}

before(async () => {
  for (const [what, p] of [["aimara binary (AIMARA_BINARY)", binary], ["Chromium (apt-get install chromium)", browserPath],
    ["test media", media], ["VAD model", vadModel]]) {
    assert.ok(fs.existsSync(p), `missing ${what}: ${p}`);
  }
  fs.rmSync(artifacts, { recursive: true, force: true }); // this test's own folder: no stale shots
  fs.mkdirSync(artifacts, { recursive: true });
  work = fs.mkdtempSync(path.join(os.tmpdir(), "aimara-dashboard-"));
  model = path.join(work, "model.bin");
  await execFileAsync(binary, ["models", "make-test", model, "--dims", "micro", "--seed", "1"],
    { timeout: 60000 });
  // The generated model's words are random but deterministic; a watchlist pattern that takes every
  // long word gives the job entities with mentions, so the page's entity list and timeline have
  // something to show.
  const watchlist = path.join(work, "watchlist.json");
  fs.writeFileSync(watchlist, JSON.stringify({ patterns: [{ label: "LONGWORD", regex: "[a-z]{6,}" }] }));
  base = (await startServer("open", ["--watchlist", watchlist])).url;
  browser = await chromium.launch({ executablePath: browserPath, headless: true, timeout: 60000 });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  for (const { proc } of servers) {
    if (proc.exitCode !== null || proc.signalCode !== null) continue;
    const exited = once(proc, "exit");
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 15000);
    await exited;
    clearTimeout(timer);
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test("submit an upload, watch it live, read its transcript, search it", { timeout: 240000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors = watchErrors(page);
  page.setDefaultTimeout(30000);
  const mediaReplies = [];
  page.on("response", (r) => {
    if (/\/api\/v1\/jobs\/\d+\/media/.test(r.url())) {
      mediaReplies.push({ status: r.status(), type: r.headers()["content-type"] });
    }
  });

  await page.goto(base + "/");
  await page.locator("#live-state[data-state=live]").waitFor();
  assert.equal(await page.locator("#jobs-empty").isVisible(), true, "a fresh store lists no jobs");

  // Everything the table shows from now on arrives without a reload: remember every state a row
  // shows, and mark the window so that a reload would be noticed.
  await page.evaluate(() => {
    window.__sameDocument = true;
    window.__states = [];
    const record = () => {
      for (const row of document.querySelectorAll("#jobs-body tr")) {
        const last = window.__states[window.__states.length - 1];
        if (row.dataset.state !== last) window.__states.push(row.dataset.state);
      }
    };
    new MutationObserver(record).observe(document.getElementById("jobs-body"),
      { childList: true, subtree: true, attributes: true, attributeFilter: ["data-state"] });
  });

  // The model field offers the one model the server runs.
  const settings = await api("/api/v1/settings");
  await page.waitForFunction((m) => [...document.querySelectorAll("#submit-model option")]
    .map((o) => o.value).join() === m, settings.model);

  // Submit through the form: an upload with options.
  await page.getByLabel("or upload files").setInputFiles(media);
  await page.getByLabel("Language").selectOption("auto");
  await page.getByLabel("Concurrency").fill("2");
  assert.equal(await page.locator("#concurrency-value").textContent(), "2");
  await page.getByRole("button", { name: "Start" }).click();
  await page.locator("#submit-message", { hasText: "Started 1 job" }).waitFor();

  const row = page.locator("#jobs-body tr").first();
  await row.waitFor();
  const jobId = Number(await row.getAttribute("data-id"));
  assert.ok(jobId > 0);
  await shot(page, "01-submitted");

  // Whatever it is doing once it has left the queue (the overview, "processing now").
  await page.waitForFunction(() => window.__states.some((st) => st !== "queued"));
  await shot(page, "02-processing");

  // It completes live, in the table, with its title and duration, going through stages first.
  await page.locator(`#jobs-body tr[data-id="${jobId}"][data-state=completed]`).waitFor({ timeout: 180000 });
  const states = await page.evaluate(() => window.__states);
  assert.equal(states[states.length - 1], "completed", `states seen: ${states}`);
  assert.ok(states.length >= 2, `the row changed state live before completing: ${states}`);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was not reloaded");
  assert.equal((await row.locator("td[data-label=Duration]").textContent()).trim(), "1:00");
  assert.equal((await row.locator("progress").getAttribute("value")), "1");
  await page.locator("#overall-label", { hasText: "Idle" }).waitFor();
  await shot(page, "03-completed");

  // The server's own view of the job agrees with what the page showed.
  const job = await api(`/api/v1/jobs/${jobId}`);
  assert.equal(job.state, "completed");
  assert.match(job.title, /^fw_multilingual/);
  assert.equal((await row.locator("td.title-cell a").textContent()), job.title);
  assert.equal(job.options.language, "auto");
  assert.equal(job.options.concurrency, 2);
  assert.equal(job.options.model, settings.model);
  const applied = await api("/api/v1/settings");
  assert.equal(applied.concurrency, 2, "the slider's value is the server's from now on");
  assert.equal(applied.max_active_jobs, 2);
  const transcript = await api(`/api/v1/jobs/${jobId}/transcript?format=json`);
  assert.ok(transcript.segments.length > 0, "the generated model produces segments");

  // The job page: the transcript, segment by segment, with timestamps.
  await row.getByRole("link").click();
  await page.waitForURL(`**/#/jobs/${jobId}`);
  await page.locator("#transcript li").first().waitFor();
  assert.equal(await page.locator("#transcript li").count(), transcript.segments.length);
  const first = transcript.segments[0];
  const firstRow = page.locator("#transcript li").first();
  assert.equal(await firstRow.locator(".text").textContent(), first.text.trim());
  assert.equal(await firstRow.locator(".ts").textContent(),
    `${Math.floor(first.start_ms / 60000)}:${String(Math.floor(first.start_ms / 1000) % 60).padStart(2, "0")}`);
  // Entities: one table row per entity, and a timeline row per entity (at most 12) with one mark
  // per mention; a mark plays/marks the transcript at that mention.
  const entities = await api(`/api/v1/jobs/${jobId}/entities`);
  assert.ok(entities.entities.length > 0 && entities.mentions.length > 0, "the watchlist pattern found words");
  await page.locator("#entities-table:not([hidden])").waitFor();
  assert.equal(await page.locator("#entities-body tr").count(), entities.entities.length);
  const top = page.locator("#timeline .timeline-track").first(); // the most mentioned entity
  const topName = (await top.getAttribute("aria-label")).replace(/^Mentions of /, "");
  const topMentions = entities.mentions.filter((m) => m.canonical === topName)
    .map((m) => m.start_ms).sort((a, b) => a - b);
  assert.equal(topMentions.length, Math.max(...entities.entities.map((e) => e.mentions)));
  assert.equal(await top.locator(".timeline-mark").count(), topMentions.length);
  await top.locator(".timeline-mark").last().click();
  const atMention = page.locator("#transcript li.target");
  await atMention.waitFor();
  const lastMention = topMentions[topMentions.length - 1];
  const expected = transcript.segments.filter((seg) => seg.start_ms <= lastMention).pop();
  assert.equal(Number(await atMention.getAttribute("data-start")), expected.start_ms,
    `the segment at the mention (${lastMention} ms) is marked`);
  assert.equal(await page.locator("#job-title").textContent(), job.title);
  await shot(page, "04-job");

  // The player: the upload's media comes from the server (with ranges), and a transcript
  // timestamp seeks it to its segment.
  await page.locator("#player-box").waitFor({ state: "visible" });
  const seekTo = transcript.segments.find((seg) => seg.start_ms >= 5000) ||
    transcript.segments[transcript.segments.length - 1];
  assert.ok(seekTo.start_ms >= 2000, `a segment after the start to seek to (${seekTo.start_ms} ms)`);
  const seekButton = page.locator(`#transcript li[data-start="${seekTo.start_ms}"] button.ts`).first();
  await seekButton.waitFor();
  await page.evaluate(() => {
    const player = document.getElementById("player");
    player.pause();
    player.currentTime = 0;
  });
  await seekButton.click();
  const seeked = await page.evaluate(() => document.getElementById("player").currentTime);
  assert.ok(Math.abs(seeked - seekTo.start_ms / 1000) < 1,
    `the player is at ${seeked} s, the segment starts at ${seekTo.start_ms / 1000} s`);
  assert.ok(mediaReplies.some((r) => r.status === 206 && r.type === "audio/mpeg"),
    `the player read the media by ranges: ${JSON.stringify(mediaReplies)}`);
  await page.evaluate(() => document.getElementById("player").pause());
  await shot(page, "04b-player");

  // Search for a word of a later segment through the search box; the result links to the job at
  // that segment's time, and following it marks the segment.
  const target = transcript.segments[transcript.segments.length - 1];
  const word = target.text.trim().split(/\s+/).filter((w) => /^\p{L}{4,}$/u.test(w))[0] ||
    target.text.trim().split(/\s+/)[0].replace(/[^\p{L}\p{N}]/gu, "");
  assert.ok(word, `a word to search in "${target.text}"`);
  await page.getByRole("searchbox", { name: "Search transcripts" }).fill(word);
  await page.getByRole("searchbox", { name: "Search transcripts" }).press("Enter");
  await page.waitForURL("**/#/search?q=*");
  await page.locator("#search-results li").first().waitFor();
  const links = await page.locator("#search-results a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  const wanted = `#/jobs/${jobId}?t=${target.start_ms}`;
  assert.ok(links.includes(wanted), `a result links to ${wanted}: ${links}`);
  assert.ok(await page.locator("#search-results mark").count() > 0, "matches are highlighted");
  await shot(page, "05-search");

  await page.locator(`#search-results a[href="${wanted}"]`).first().click();
  await page.waitForURL(`**/${wanted}`);
  const marked = page.locator("#transcript li.target");
  await marked.waitFor();
  assert.equal(await marked.getAttribute("data-start"), String(target.start_ms));
  await shot(page, "06-search-result-in-job");

  // Narrow screens: the table becomes stacked rows, nothing overflows sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(base + "/#/");
  await page.locator(`#jobs-body tr[data-id="${jobId}"]`).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `no horizontal scrolling at 390 px (${overflow} px)`);
  await shot(page, "07-narrow");

  assert.deepEqual(pageErrors, [], "no script errors");
  await context.close();
});

test("the parallel switch and the concurrency slider set the server's limit", { timeout: 60000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors = watchErrors(page);
  page.setDefaultTimeout(30000);
  const settingsBecome = async (want) => {
    const until = Date.now() + 10000;
    let s;
    while (Date.now() < until) {
      s = await api("/api/v1/settings");
      if (Object.entries(want).every(([k, v]) => s[k] === v)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`settings ${JSON.stringify(s)} never became ${JSON.stringify(want)}`);
  };

  await page.goto(base + "/");
  await page.locator("#live-state[data-state=live]").waitFor();
  await page.getByLabel("Concurrency").fill("5");
  await settingsBecome({ parallel: true, concurrency: 5, max_active_jobs: 5 });
  await page.getByRole("switch", { name: /Parallel/ }).uncheck();
  await settingsBecome({ parallel: false, concurrency: 5, max_active_jobs: 1 });
  // A fresh page shows what the server runs with.
  await page.reload();
  await page.locator("#live-state[data-state=live]").waitFor();
  await page.waitForFunction(() => document.getElementById("concurrency-value").textContent === "5");
  assert.equal(await page.getByRole("switch", { name: /Parallel/ }).isChecked(), false);
  assert.equal(await page.getByLabel("Concurrency").isDisabled(), true);
  await page.getByRole("switch", { name: /Parallel/ }).check();
  await settingsBecome({ parallel: true, concurrency: 5, max_active_jobs: 5 });
  assert.deepEqual(pageErrors, [], "no script errors");
  await context.close();
});

test("asks for the access token, keeps it, and sends it", { timeout: 120000 }, async () => {
  const token = "dashboard-test-token";
  const secured = await startServer("secured", ["--token", token]);
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  const page = await context.newPage();
  const pageErrors = watchErrors(page, { allow: [/401/] });
  page.setDefaultTimeout(30000);

  // Without a token the API answers 401 and the page asks for one.
  await page.goto(secured.url + "/");
  const dialog = page.getByRole("dialog", { name: "Access token" });
  await dialog.waitFor();
  await dialog.getByText("The server needs an access token.").waitFor();
  assert.notEqual(await page.locator("#live-state").getAttribute("data-state"), "live");
  await shot(page, "08-token-asked");

  await dialog.getByLabel("Token").fill(token);
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "hidden" });
  // The event stream (token as a query parameter) and the API (bearer header) both accept it.
  await page.locator("#live-state[data-state=live]").waitFor();
  await page.locator("#jobs-empty", { hasText: "No jobs yet" }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem("aimara.token")), token);

  // Kept across a reload: no question, live at once.
  await page.reload();
  await page.locator("#live-state[data-state=live]").waitFor();
  assert.equal(await dialog.isVisible(), false);
  assert.deepEqual(pageErrors, [], "no script errors");
  await context.close();
});
