// The official OpenAI Node client (npm package `openai`) against `aimara serve`'s
// POST /v1/audio/transcriptions: json, verbose_json, srt, and a bad request that must come back
// as OpenAI's error envelope (a BadRequestError with status, type, param and code).
//
//   node --test openai_client.test.mjs     (AIMARA_BINARY, AIMARA_SHARED_DIR from the environment,
//                                           as tests/node/CMakeLists.txt sets them)
//
// Starts its own server on 127.0.0.1 with a free port (--listen 127.0.0.1:0), a generated test
// model and a bearer token, and stops it when done.
import { after, before, test } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through ctest)`);
  return v;
}

let OpenAI;
try {
  ({ default: OpenAI } = await import('openai'));
} catch (e) {
  throw new Error('cannot load the npm package `openai`: run scripts/bootstrap (npm ci in tests/node)');
}

const aimara = env('AIMARA_BINARY');
const media = path.join(env('AIMARA_SHARED_DIR'), 'media', 'jfk.wav');
const dir = mkdtempSync(path.join(tmpdir(), 'aimara-openai-'));
const token = 'node-test-token';
let server;

function startServer() {
  const model = path.join(dir, 'model.bin');
  const made = spawnSync(aimara, ['models', 'make-test', model, '--dims', 'micro', '--seed', '1'],
                         { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`make-test failed: ${made.stderr}`);
  const env = { ...process.env };
  delete env.AIMARA_TOKEN;
  server = spawn(aimara, ['serve', '--listen', '127.0.0.1:0', '--token', token,
                          '--store', `sqlite:${path.join(dir, 'aimara.db')}`,
                          '--data-dir', path.join(dir, 'data'), '-m', model, '--no-vad',
                          '--workers', '2', '--threads', '1'],
                 { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 60000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}): ${stderr}`));
    });
  });
}

function stopServer() {
  if (!server || server.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => { server.kill('SIGKILL'); }, 15000);
    server.on('exit', () => { clearTimeout(timer); resolve(); });
    server.kill('SIGTERM');
  });
}

let base;
let client;
before(async () => {
  base = await startServer();
  client = new OpenAI({ apiKey: token, baseURL: `${base}/v1`, maxRetries: 0, timeout: 120000 });
});
after(async () => {
  await stopServer();
  rmSync(dir, { recursive: true, force: true });
});

test('json: {"text"}', async () => {
  const r = await client.audio.transcriptions.create({
    file: createReadStream(media), model: 'whisper-1', response_format: 'json', language: 'en',
  });
  assert.deepEqual(Object.keys(r).filter((k) => k !== '_request_id'), ['text']);
  assert.equal(typeof r.text, 'string');
  assert.ok(r.text.length > 0);
});

test('verbose_json: segments and words', async () => {
  const r = await client.audio.transcriptions.create({
    file: createReadStream(media), model: 'whisper-1', response_format: 'verbose_json',
    language: 'en', timestamp_granularities: ['word', 'segment'],
  });
  assert.equal(r.task, 'transcribe');
  assert.equal(r.language, 'english');
  assert.ok(Math.abs(r.duration - 11.0) < 0.1, `duration ${r.duration}`);
  assert.equal(typeof r.text, 'string');
  assert.ok(Array.isArray(r.segments) && r.segments.length > 0);
  const s = r.segments[0];
  for (const k of ['id', 'seek', 'start', 'end', 'text', 'tokens', 'temperature', 'avg_logprob',
                   'compression_ratio', 'no_speech_prob']) {
    assert.ok(k in s, `segment field ${k}`);
  }
  assert.equal(s.id, 0);
  assert.ok(s.start <= s.end);
  assert.ok(Array.isArray(s.tokens) && Number.isInteger(s.tokens[0]));
  assert.ok(Array.isArray(r.words) && r.words.length > 0);
  assert.equal(typeof r.words[0].word, 'string');
  assert.ok(r.words[0].start <= r.words[0].end);
});

test('srt: subtitle text', async () => {
  const r = await client.audio.transcriptions.create({
    file: createReadStream(media), model: 'whisper-1', response_format: 'srt',
  });
  assert.equal(typeof r, 'string');
  assert.match(r, /^1\n\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d\n/);
});

test('bad request: OpenAI error envelope', async () => {
  await assert.rejects(
    client.audio.transcriptions.create({
      file: createReadStream(media), model: 'whisper-1', response_format: 'yaml',
    }),
    (e) => {
      assert.ok(e instanceof OpenAI.BadRequestError, `got ${e?.constructor?.name}: ${e}`);
      assert.equal(e.status, 400);
      assert.equal(e.type, 'invalid_request_error');
      assert.equal(e.param, 'response_format');
      assert.equal(typeof e.error.message, 'string');
      return true;
    });
});

test('wrong key: 401 AuthenticationError', async () => {
  const bad = new OpenAI({ apiKey: 'wrong', baseURL: `${base}/v1`, maxRetries: 0 });
  await assert.rejects(
    bad.audio.transcriptions.create({ file: createReadStream(media), model: 'whisper-1' }),
    (e) => {
      assert.ok(e instanceof OpenAI.AuthenticationError, `got ${e?.constructor?.name}`);
      assert.equal(e.status, 401);
      assert.equal(e.code, 'invalid_api_key');
      return true;
    });
});
