// aimara dashboard: submit jobs, watch them live, read transcripts, entities and search results.
//
// Plain JavaScript, no dependencies. Talks to the REST API of `aimara serve` (docs/api.md) and
// listens to its server-sent events; routes are hashes:
//   #/                     jobs: submit form, overview, the table of all jobs
//   #/jobs/ID              one job; #/jobs/ID?t=MS opens it at that time
//   #/search?q=WORDS       search results
"use strict";

(() => {
  const API = "/api/v1";
  const TOKEN_KEY = "aimara.token";
  const PAGE_SIZE = 50;
  const RUNNING = new Set([
    "resolving", "downloading", "extracting_audio", "transcribing",
    "extracting_entities", "analyzing", "storing",
  ]);
  const TERMINAL = new Set(["completed", "dead", "cancelled"]);
  const STATE_ORDER = [
    "queued", "resolving", "downloading", "extracting_audio", "transcribing",
    "extracting_entities", "analyzing", "storing", "completed", "failed", "dead", "cancelled",
  ];

  const $ = (id) => document.getElementById(id);

  // ----- small helpers -----

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  // Replaces a node's children; null, undefined and false among them are skipped.
  function setKids(node, ...kids) {
    node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
  }

  // 3723000 -> "1:02:03", 63000 -> "1:03"
  function formatClock(ms) {
    if (!Number.isFinite(ms) || ms < 0) return "";
    const total = Math.floor(ms / 1000);
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    const ss = String(s).padStart(2, "0");
    return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
  }

  // A media duration to the nearest second (59.95 s -> "1:00"); timestamps above round down.
  function formatDuration(ms) {
    return formatClock(Math.round(ms / 1000) * 1000);
  }

  // A duration in words for ETAs: "45 s", "3 min", "1 h 20 min".
  function formatEta(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) return "";
    if (seconds < 1) return "< 1 s";
    if (seconds < 90) return `${Math.round(seconds)} s`;
    const min = Math.round(seconds / 60);
    if (min < 90) return `${min} min`;
    return `${Math.floor(min / 60)} h ${min % 60} min`;
  }

  function formatMs(ms) {
    if (!Number.isFinite(ms)) return "";
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
    return formatClock(ms);
  }

  function percent(p) {
    return `${Math.round(Math.max(0, Math.min(1, p)) * 100)}%`;
  }

  function stateLabel(state) {
    return (state || "").replaceAll("_", " ");
  }

  function announce(text) {
    const a = $("announcer");
    a.textContent = "";
    requestAnimationFrame(() => { a.textContent = text; });
  }

  // Text with the words of `query` wrapped in <mark>, as DOM nodes (never HTML from the server).
  function highlighted(text, query) {
    const words = (query || "").toLowerCase().match(/[\p{L}\p{N}]+/gu) || [];
    if (!words.length || !text) return [document.createTextNode(text || "")];
    const fold = (s) => s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
    const folded = [...text].map((ch) => fold(ch));
    const chars = [...text];
    const hay = folded.join("");
    // Map every folded character offset back to the original character index.
    const back = [];
    folded.forEach((f, i) => { for (let k = 0; k < f.length; k++) back.push(i); });
    const marks = new Array(chars.length).fill(false);
    for (const w of words.map(fold)) {
      let from = 0;
      for (;;) {
        const at = hay.indexOf(w, from);
        if (at < 0) break;
        for (let k = at; k < at + w.length; k++) marks[back[k]] = true;
        from = at + w.length;
      }
    }
    const out = [];
    let i = 0;
    while (i < chars.length) {
      let j = i;
      while (j < chars.length && marks[j] === marks[i]) j++;
      const piece = chars.slice(i, j).join("");
      out.push(marks[i] ? el("mark", {}, piece) : document.createTextNode(piece));
      i = j;
    }
    return out;
  }

  // Search snippets are HTML-escaped text with the matches in <mark>; rebuild them from text and
  // <mark> only, so nothing else the snippet could hold ever reaches the page.
  function snippetNodes(snippet) {
    const doc = new DOMParser().parseFromString(`<p>${snippet || ""}</p>`, "text/html");
    const out = [];
    for (const node of doc.body.firstChild ? doc.body.firstChild.childNodes : []) {
      if (node.nodeName === "MARK") out.push(el("mark", {}, node.textContent));
      else out.push(document.createTextNode(node.textContent));
    }
    return out;
  }

  // ----- the API -----

  const auth = {
    get token() { return localStorage.getItem(TOKEN_KEY) || ""; },
    set token(v) {
      if (v) localStorage.setItem(TOKEN_KEY, v);
      else localStorage.removeItem(TOKEN_KEY);
    },
    headers() {
      return this.token ? { Authorization: `Bearer ${this.token}` } : {};
    },
    // For what cannot send headers (EventSource, <audio src>): the token as a query parameter.
    withToken(url) {
      if (!this.token) return url;
      return url + (url.includes("?") ? "&" : "?") + "access_token=" + encodeURIComponent(this.token);
    },
  };

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || `HTTP ${status}`);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, { method = "GET", body, json, signal, raw = false } = {}) {
    const headers = { ...auth.headers() };
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    const res = await fetch(API + path, { method, headers, body, signal });
    if (!res.ok) {
      let code = "";
      let message = "";
      try {
        const e = await res.json(); // {"error": {"code", "message"}} (docs/api.md "Errors")
        code = e.error?.code || "";
        message = e.error?.message || "";
      } catch { /* not JSON: a proxy's error page, say */ }
      if (res.status === 401) showTokenDialog("The server needs an access token.");
      throw new ApiError(res.status, code, message || `${res.status} ${res.statusText}`);
    }
    if (raw) return res;
    if (res.status === 204) return null;
    const type = res.headers.get("Content-Type") || "";
    return type.includes("json") ? res.json() : res.text();
  }

  function timeMs(iso) {
    if (iso === null || iso === undefined) return null;
    const t = Date.parse(iso);
    return Number.isFinite(t) ? t : null;
  }

  // The job object of docs/api.md, as the page uses it.
  function normalizeJob(raw) {
    const progress = Number(raw.progress);
    const eta = raw.eta_s;
    return {
      id: raw.id,
      parentId: raw.parent_id ?? null,
      kind: raw.kind || "media",
      state: raw.state || "queued",
      stage: raw.stage || null,
      progress: Number.isFinite(progress) ? Math.max(0, Math.min(1, progress)) : 0,
      etaS: typeof eta === "number" && Number.isFinite(eta) ? eta : null,
      title: raw.title || "",
      platform: raw.platform || "",
      durationMs: Number(raw.duration_ms) || 0,
      worker: raw.worker || "",
      url: /^https?:\/\//i.test(raw.url || "") ? raw.url : "", // the page's or media's web address
      error: raw.error || null,
      timings: Array.isArray(raw.timings) ? raw.timings : null,
      chunks: raw.chunks || null,
      children: raw.children || null,
      attempts: raw.attempts ?? 0,
      maxAttempts: raw.max_attempts ?? 0,
      options: raw.options || {},
      createdMs: timeMs(raw.created_at),
      finishedMs: timeMs(raw.finished_at),
    };
  }

  // Keeps what the page learnt about a job (seen live) across reloads of its snapshot.
  function remember(job) {
    const before = store.jobs.get(job.id);
    if (before && before.seenLive) job.seenLive = true;
    // The list and the events leave out the job page's extras; keep the last ones seen while the
    // state is the same (a new state means new timings: the job page fetches them again).
    if (before && before.state === job.state) {
      if (!job.timings && before.timings) job.timings = before.timings;
      if (!job.chunks && before.chunks) job.chunks = before.chunks;
    }
    store.jobs.set(job.id, job);
    return job;
  }

  function jobTitle(job) {
    return job.title || job.url || `Job ${job.id}`;
  }

  // What the job is doing, in words: its stage while running, otherwise its state.
  function jobStageText(job) {
    if (RUNNING.has(job.state)) return stateLabel(job.state);
    if (job.state === "failed" && job.stage) return `failed in ${stateLabel(job.stage)}, will retry`;
    if (job.state === "dead" && job.stage) return `dead (${stateLabel(job.stage)})`;
    return stateLabel(job.state);
  }

  // ----- state -----

  const store = {
    jobs: new Map(), // id -> normalised job, the current page and everything the events told us
    pageIds: [],     // ids in the table, newest first
    counts: null,    // jobs per state over the whole store (GET /jobs), kept current by events
    total: null,
    offset: 0,
    filter: "",
    loadedAt: Date.now(),
  };

  // ----- live events -----

  const live = {
    source: null,
    retryTimer: null,
    listeners: new Set(),

    start() {
      this.stop();
      setLiveState("connecting");
      const es = new EventSource(auth.withToken(`${API}/events`));
      this.source = es;
      const onJob = (ev) => {
        let data;
        try { data = JSON.parse(ev.data); } catch { return; }
        if (!data || data.id === undefined) return;
        const job = normalizeJob(data);
        for (const fn of this.listeners) fn(ev.type, job);
      };
      for (const type of ["job.created", "job.stage", "job.progress", "job.completed", "job.failed",
        "job.cancelled"]) {
        es.addEventListener(type, onJob);
      }
      es.onopen = () => {
        setLiveState("live");
        // Catch up with whatever happened while we were not listening.
        refreshJobs();
        if (route.name === "job") refreshJob(route.id, { quiet: true });
      };
      es.onerror = () => {
        if (es.readyState === EventSource.CLOSED) {
          // The server refused the stream (e.g. 401) or went away: try again later.
          setLiveState("offline");
          this.retryTimer = setTimeout(() => this.start(), 5000);
        } else {
          setLiveState("connecting");
        }
      };
    },
    stop() {
      clearTimeout(this.retryTimer);
      if (this.source) this.source.close();
      this.source = null;
    },
  };

  function setLiveState(state) {
    const node = $("live-state");
    node.dataset.state = state;
    node.textContent = { live: "live", connecting: "connecting", offline: "offline" }[state] || state;
  }

  live.listeners.add((type, job) => {
    const before = store.jobs.get(job.id);
    job.seenLive = true; // counts in the overview's batch even when it finished before a reload
    remember(job);
    if (store.counts && (!before || before.state !== job.state)) {
      if (before && store.counts[before.state] > 0) store.counts[before.state] -= 1;
      else if (!before && type === "job.created") store.total = (store.total ?? 0) + 1;
      store.counts[job.state] = (store.counts[job.state] || 0) + 1;
    }
    if (!before && store.offset === 0 && matchesFilter(job) && !store.pageIds.includes(job.id)) {
      store.pageIds.unshift(job.id);
      if (store.pageIds.length > PAGE_SIZE) store.pageIds.length = PAGE_SIZE;
    }
    if (route.name === "jobs") {
      if (store.pageIds.includes(job.id)) updateRow(job);
      renderOverview();
    }
    if (route.name === "job" && route.id === job.id) {
      onCurrentJobUpdate(job);
      // Events carry the job object only: fetch the page's extras (stage timings, chunks) again
      // when the state changes, and now and then while it makes progress.
      if (!before || before.state !== job.state || Date.now() - jobView.fetchedAt > 3000) {
        refreshJob(job.id, { quiet: true });
      }
    }
    if (before && before.state !== job.state) {
      if (job.state === "completed") announce(`${jobTitle(job)}: completed`);
      else if (job.state === "dead") announce(`${jobTitle(job)}: failed`);
    }
  });

  // How many jobs the table's filter selects over the whole store; null when not known.
  function filteredTotal() {
    if (!store.filter) return store.total;
    if (!store.counts) return null;
    const states = store.filter === "running" ? [...RUNNING] : [store.filter];
    return states.reduce((n, st) => n + (store.counts[st] || 0), 0);
  }

  function matchesFilter(job) {
    const f = store.filter;
    if (!f) return true;
    if (f === "running") return RUNNING.has(job.state);
    return job.state === f;
  }

  // ----- jobs view -----

  let refreshPending = null;
  async function refreshJobs() {
    if (refreshPending) return refreshPending;
    refreshPending = (async () => {
      const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(store.offset) });
      if (store.filter) params.set("state", store.filter === "running" ? [...RUNNING].join(",") : store.filter);
      try {
        const data = await api(`/jobs?${params}`);
        const list = data.jobs || [];
        store.pageIds = [];
        for (const raw of list) {
          const job = remember(normalizeJob(raw));
          store.pageIds.push(job.id);
        }
        // Newest first, whatever order the server used.
        store.pageIds.sort((a, b) => (b > a ? 1 : b < a ? -1 : 0));
        store.counts = data.counts ? { ...data.counts } : null;
        store.total = data.total ?? null;
        if (route.name === "jobs") {
          renderTable();
          renderOverview();
        }
      } catch (e) {
        if (route.name === "jobs") $("jobs-empty").textContent = `Could not load the jobs: ${e.message}`;
        $("jobs-empty").hidden = false;
      } finally {
        refreshPending = null;
      }
    })();
    return refreshPending;
  }

  function rowCells(job) {
    const title = jobTitle(job);
    const sub = job.url && job.url !== title ? job.url : "";
    const running = RUNNING.has(job.state);
    const progress = job.state === "completed" ? 1 : job.progress;
    const actions = [];
    if (!TERMINAL.has(job.state)) {
      actions.push(el("button", {
        type: "button", class: "small quiet", "aria-label": `Cancel ${title}`,
        onclick: () => jobAction(job.id, "cancel"),
      }, "Cancel"));
    }
    if (job.state === "failed" || job.state === "dead" || job.state === "cancelled") {
      actions.push(el("button", {
        type: "button", class: "small", "aria-label": `Retry ${title}`,
        onclick: () => jobAction(job.id, "retry"),
      }, "Retry"));
    }
    return [
      el("td", { class: "title-cell", "data-label": "Title" },
        el("a", { href: `#/jobs/${job.id}`, title }, title),
        sub ? el("span", { class: "sub" }, sub) : null,
        job.kind === "playlist" ? el("span", { class: "sub" }, "playlist") : null),
      el("td", { "data-label": "Platform" }, job.platform || null),
      el("td", { class: "num", "data-label": "Duration" }, job.durationMs ? formatDuration(job.durationMs) : null),
      el("td", { "data-label": "Stage" },
        el("span", { class: "badge", dataset: { state: job.state } }, jobStageText(job))),
      el("td", { class: "progress-td", "data-label": "Progress" },
        el("div", { class: "progress-cell" },
          el("progress", { max: "1", value: String(progress), "aria-label": `Progress of ${title}` }),
          el("span", {}, percent(progress)))),
      el("td", { class: "num", "data-label": "ETA" }, running && job.etaS !== null ? formatEta(job.etaS) : null),
      el("td", { class: "worker", "data-label": "Worker" }, running && job.worker ? job.worker : null),
      el("td", { class: "row-actions" }, actions),
    ];
  }

  function updateRow(job) {
    const row = document.querySelector(`#jobs-body tr[data-id="${CSS.escape(String(job.id))}"]`);
    if (!row) return renderTable();
    // Keep focus on a button that survives (cancel/retry) by replacing cells, not the row.
    const hadFocus = row.contains(document.activeElement);
    row.dataset.state = job.state;
    setKids(row, ...rowCells(job));
    if (hadFocus) row.querySelector("a")?.focus();
  }

  function renderTable() {
    const body = $("jobs-body");
    const ids = store.pageIds.filter((id) => store.jobs.has(id) && matchesFilter(store.jobs.get(id)));
    setKids(body, ...ids.map((id) => {
      const job = store.jobs.get(id);
      return el("tr", { dataset: { id: String(id), state: job.state } }, rowCells(job));
    }));
    const empty = $("jobs-empty");
    empty.hidden = ids.length > 0;
    empty.textContent = store.filter ? "No jobs in this state." : "No jobs yet. Paste a URL or upload a file above.";
    const from = ids.length ? store.offset + 1 : 0;
    const to = store.offset + ids.length;
    const total = filteredTotal();
    $("page-info").textContent = ids.length
      ? `${from}–${to}${total !== null ? ` of ${total}` : ""}` : "";
    $("page-prev").disabled = store.offset === 0;
    $("page-next").disabled = total !== null ? to >= total : ids.length < PAGE_SIZE;
  }

  // Global progress and ETA over the jobs in flight (not finished, or finished since this page was
  // opened), weighted by duration where known.
  function renderOverview() {
    const all = [...store.jobs.values()].filter((j) => j.kind !== "playlist");
    // Counts over the whole store when the server gave them, else over the jobs the page knows.
    const counts = new Map();
    if (store.counts) for (const [st, n] of Object.entries(store.counts)) counts.set(st, n);
    else for (const j of all) counts.set(j.state, (counts.get(j.state) || 0) + 1);

    const active = all.filter((j) => !TERMINAL.has(j.state) || j.seenLive ||
      (j.finishedMs !== null && j.finishedMs >= store.loadedAt));
    const batch = active.filter((j) => j.state !== "cancelled");
    const inFlight = batch.filter((j) => !TERMINAL.has(j.state));

    const label = $("overall-label");
    const bar = $("overall-progress");
    if (!inFlight.length) {
      const total = store.total ?? all.length;
      const done = counts.get("completed") || 0;
      bar.value = total ? done / total : 0;
      label.textContent = total ? `Idle. ${done} of ${total} jobs completed.` : "No jobs yet";
    } else {
      let weight = 0;
      let doneWeight = 0;
      let remainingMs = 0;
      let rate = 0; // media ms processed per second, summed over running jobs with an ETA
      let maxEta = 0;
      for (const j of batch) {
        const w = j.durationMs || 60000;
        const p = j.state === "completed" ? 1 : (j.state === "dead" ? 1 : j.progress);
        weight += w;
        doneWeight += w * p;
        if (!TERMINAL.has(j.state)) {
          remainingMs += w * (1 - p);
          if (RUNNING.has(j.state) && j.etaS !== null && j.etaS > 0) {
            rate += (w * (1 - p)) / j.etaS;
            maxEta = Math.max(maxEta, j.etaS);
          }
        }
      }
      const overall = weight ? doneWeight / weight : 0;
      bar.value = overall;
      const eta = rate > 0 ? Math.max(maxEta, remainingMs / rate) : null;
      const running = inFlight.filter((j) => RUNNING.has(j.state)).length;
      label.textContent = `${percent(overall)} of ${batch.length} job${batch.length === 1 ? "" : "s"}` +
        ` · ${running} running, ${inFlight.length - running} waiting` +
        (eta !== null ? ` · about ${formatEta(eta)} left` : "");
    }

    setKids($("state-counts"), ...STATE_ORDER.filter((s) => counts.get(s)).map((s) =>
      el("li", {}, stateLabel(s), " ", el("b", {}, String(counts.get(s))))));

    const now = all.filter((j) => RUNNING.has(j.state)).sort((a, b) => a.id - b.id);
    setKids($("now-list"), ...(now.length ? now.map((j) =>
      el("li", {},
        el("a", { class: "now-title", href: `#/jobs/${j.id}` }, jobTitle(j)),
        el("span", { class: "now-meta" },
          `${stateLabel(j.state)} · ${percent(j.progress)}` +
          (j.etaS !== null ? ` · ${formatEta(j.etaS)} left` : "") +
          (j.worker ? ` · ${j.worker}` : "")),
        el("progress", { max: "1", value: String(j.progress), "aria-label": `Progress of ${jobTitle(j)}` })))
      : [el("li", { class: "empty" }, "Nothing is being processed.")]));
  }

  async function jobAction(id, action) {
    try {
      const data = await api(`/jobs/${encodeURIComponent(id)}/${action}`, { method: "POST" });
      if (data && typeof data === "object" && data.id !== undefined) {
        remember(normalizeJob(data.job || data));
      }
      announce(action === "cancel" ? "Job cancelled" : "Job queued again");
      await refreshJobs();
      if (route.name === "job" && route.id === id) refreshJob(id, { quiet: true });
    } catch (e) {
      announce(`Could not ${action} the job: ${e.message}`);
      alertMessage(`Could not ${action} job ${id}: ${e.message}`);
    }
  }

  function alertMessage(text) {
    const m = $("submit-message");
    m.textContent = text;
    m.classList.add("error");
  }

  // ----- submitting -----

  function submitOptions() {
    const opts = {};
    const model = $("submit-model").value.trim();
    const language = $("submit-language").value;
    if (model) opts.model = model;
    if (language) opts.language = language;
    const parallel = $("submit-parallel").checked;
    opts.parallel = parallel;
    opts.concurrency = parallel ? Number($("submit-concurrency").value) : 1;
    return opts;
  }

  function idsFrom(data) {
    if (!data) return [];
    if (Array.isArray(data.ids)) return data.ids;
    if (Array.isArray(data.jobs)) return data.jobs.map((j) => j.id);
    if (data.id !== undefined) return [data.id];
    return [];
  }

  async function onSubmit(ev) {
    ev.preventDefault();
    const msg = $("submit-message");
    msg.classList.remove("error");
    const urls = $("submit-urls").value.split(/\s+/).map((s) => s.trim()).filter(Boolean);
    const files = [...$("submit-files").files];
    if (!urls.length && !files.length) {
      msg.textContent = "Enter at least one URL or choose a file.";
      msg.classList.add("error");
      $("submit-urls").focus();
      return;
    }
    const opts = submitOptions();
    const button = $("submit-button");
    button.disabled = true;
    msg.textContent = "Submitting…";
    const created = [];
    const failures = [];
    try {
      if (urls.length) {
        try {
          const body = urls.length === 1 ? { url: urls[0], ...opts } : { urls, ...opts };
          created.push(...idsFrom(await api("/jobs", { method: "POST", json: body })));
        } catch (e) {
          failures.push(e.message);
        }
      }
      for (const file of files) {
        msg.textContent = `Uploading ${file.name}…`;
        const form = new FormData();
        for (const [k, v] of Object.entries(opts)) form.append(k, String(v));
        form.append("file", file, file.name);
        try {
          created.push(...idsFrom(await api("/jobs", { method: "POST", body: form })));
        } catch (e) {
          failures.push(`${file.name}: ${e.message}`);
        }
      }
    } finally {
      button.disabled = false;
    }
    if (failures.length) {
      msg.textContent = (created.length ? `Started ${created.length}; ` : "") + `failed: ${failures.join("; ")}`;
      msg.classList.add("error");
    } else {
      msg.textContent = `Started ${created.length} job${created.length === 1 ? "" : "s"}.`;
      $("submit-urls").value = "";
      $("submit-files").value = "";
    }
    await refreshJobs();
  }

  // ----- job view -----

  const jobView = {
    id: null,
    job: null,
    segments: [],
    durationMs: 0,
    fetchedAt: 0,           // when the job itself was last asked for
    transcriptAt: 0,        // when the transcript was last asked for
    transcriptFinal: false, // the completed job's transcript was asked for
    transcriptSeq: 0,       // the newest request; older answers are dropped
    entitiesLoaded: false,
    targetMs: null,
    mediaUrl: null,
    controller: null,
  };

  function resetJobView(id) {
    if (jobView.controller) jobView.controller.abort();
    Object.assign(jobView, {
      id, job: null, segments: [], durationMs: 0, transcriptAt: 0, transcriptFinal: false,
      entitiesLoaded: false, mediaUrl: null, controller: new AbortController(),
    });
    $("job-title").textContent = `Job ${id}`;
    $("job-facts").replaceChildren();
    $("job-live").replaceChildren();
    $("job-actions").replaceChildren();
    $("job-error").hidden = true;
    $("transcript").replaceChildren();
    $("transcript-empty").hidden = true;
    $("downloads").replaceChildren();
    $("timeline").replaceChildren();
    $("entities-body").replaceChildren();
    $("entities-table").hidden = true;
    $("entities-empty").hidden = true;
    $("timings-body").replaceChildren();
    $("transcript-filter").value = "";
    $("transcript-filter").closest(".field").hidden = true;
    const player = $("player");
    player.pause();
    player.removeAttribute("src");
    player.load();
    $("player-box").hidden = true;
  }

  async function refreshJob(id, { quiet = false } = {}) {
    jobView.fetchedAt = Date.now();
    try {
      const raw = await api(`/jobs/${encodeURIComponent(id)}`, { signal: jobView.controller?.signal });
      if (jobView.id !== id) return;
      const job = remember(normalizeJob(raw.job || raw));
      onCurrentJobUpdate(job);
    } catch (e) {
      if (e.name === "AbortError" || quiet) return;
      $("job-title").textContent = e.status === 404 ? `No job ${id}` : `Job ${id}`;
      $("job-error").textContent = e.status === 404 ? "This job does not exist." : `Could not load the job: ${e.message}`;
      $("job-error").hidden = false;
    }
  }

  function fact(label, ...value) {
    return el("div", {}, el("dt", {}, label), el("dd", {}, ...value));
  }

  function onCurrentJobUpdate(job) {
    jobView.job = job;
    const title = jobTitle(job);
    $("job-title").textContent = title;
    document.title = `${title} · aimara`;
    setKids($("job-facts"),
      fact("State", el("span", { class: "badge", dataset: { state: job.state } }, jobStageText(job))),
      job.platform ? fact("Platform", job.platform) : null,
      job.durationMs ? fact("Duration", formatDuration(job.durationMs)) : null,
      job.worker && RUNNING.has(job.state) ? fact("Worker", el("span", { class: "worker" }, job.worker)) : null,
      job.attempts ? fact("Attempts", `${job.attempts}${job.maxAttempts ? ` of ${job.maxAttempts}` : ""}`) : null,
      job.chunks && job.chunks.total ? fact("Chunks", `${job.chunks.done} of ${job.chunks.total} transcribed`) : null,
      job.children && job.children.total ? fact("Entries", `${job.children.completed} of ${job.children.total} completed`) : null,
      job.options.language ? fact("Language", job.options.language) : null,
      job.options.model ? fact("Model", job.options.model) : null,
      job.url ? fact("Source", el("a", { href: job.url, rel: "noopener noreferrer", target: "_blank" }, job.url))
        : fact("Source", "upload or local file"),
      fact("Job id", String(job.id)));

    const actions = [];
    if (!TERMINAL.has(job.state)) {
      actions.push(el("button", { type: "button", onclick: () => jobAction(job.id, "cancel") }, "Cancel"));
    }
    if (["failed", "dead", "cancelled"].includes(job.state)) {
      actions.push(el("button", { type: "button", class: "primary", onclick: () => jobAction(job.id, "retry") }, "Retry"));
    }
    setKids($("job-actions"), ...actions);

    if (!TERMINAL.has(job.state)) {
      const p = job.progress;
      setKids($("job-live"),
        el("progress", { max: "1", value: String(p), "aria-label": `Progress of ${title}` }),
        el("p", { class: "overall-label" },
          `${stateLabel(job.state)} · ${percent(p)}` + (job.etaS !== null ? ` · about ${formatEta(job.etaS)} left` : "")));
    } else {
      $("job-live").replaceChildren();
    }

    const errBox = $("job-error");
    if (job.error && job.state !== "completed") {
      errBox.textContent = job.error.code ? `${job.error.code}: ${job.error.message}` : job.error.message;
      errBox.hidden = false;
    } else {
      errBox.hidden = true;
    }

    renderTimings(job);

    // The transcript grows while the job transcribes: reload it every few seconds meanwhile, and
    // once more when the job has completed.
    const hasText = job.state === "completed" || job.state === "transcribing" ||
      ["extracting_entities", "analyzing", "storing"].includes(job.state);
    if (hasText) {
      const final = job.state === "completed";
      if (final ? !jobView.transcriptFinal : Date.now() - jobView.transcriptAt > 4000) {
        jobView.transcriptAt = Date.now();
        jobView.transcriptFinal = final;
        loadTranscript(job);
      }
    } else if (!jobView.segments.length) {
      const t = $("transcript-empty");
      t.hidden = false;
      t.textContent = TERMINAL.has(job.state) || job.state === "failed"
        ? "No transcript." : "The transcript appears here as the job is transcribed.";
    }
    if (job.state === "completed" && !jobView.entitiesLoaded) {
      jobView.entitiesLoaded = true;
      loadEntities(job);
    } else if (job.state !== "completed") {
      const empty = $("entities-empty");
      empty.hidden = false;
      empty.textContent = TERMINAL.has(job.state)
        ? "No entities." : "Entities appear here when the job has completed.";
    }
    if (job.state === "completed" && !jobView.mediaUrl) setupPlayer(job);
  }

  function renderTimings(job) {
    const rows = [];
    const t = job.timings;
    if (Array.isArray(t)) {
      for (const s of t) {
        const ms = s.duration_ms ?? s.ms ?? (s.ended_at_ms && s.started_at_ms ? s.ended_at_ms - s.started_at_ms : null);
        rows.push([s.stage || s.name, ms, s.outcome || ""]);
      }
    } else if (t && typeof t === "object") {
      for (const [stage, v] of Object.entries(t)) {
        const ms = typeof v === "number" ? v : (v?.duration_ms ?? v?.ms ?? null);
        rows.push([stage.replace(/_ms$/, ""), ms, typeof v === "object" ? (v?.outcome || "") : ""]);
      }
    }
    setKids($("timings-body"), ...(rows.length ? rows.map(([stage, ms, outcome]) =>
      el("tr", {}, el("td", {}, stateLabel(stage)), el("td", { class: "num" }, ms !== null ? formatMs(ms) : ""),
        el("td", {}, outcome)))
      : [el("tr", {}, el("td", { colspan: "3", class: "empty" }, "No stage has finished yet."))]));
  }

  async function loadTranscript(job) {
    const id = job.id;
    const seq = ++jobView.transcriptSeq;
    try {
      const data = await api(`/jobs/${encodeURIComponent(id)}/transcript?format=json`, { signal: jobView.controller.signal });
      if (jobView.id !== id || seq !== jobView.transcriptSeq) return;
      const segs = (data.segments || []).map((s) => ({
        start: Number(s.start_ms) || 0,
        end: Number(s.end_ms) || 0,
        text: String(s.text || "").trim(),
      }));
      const first = !jobView.segments.length;
      jobView.segments = segs;
      jobView.durationMs = Number(data.duration_ms) || job.durationMs || (segs.length ? segs[segs.length - 1].end : 0);
      renderTranscript();
      renderDownloads(job);
      if (first && jobView.targetMs !== null) goToTime(jobView.targetMs, { play: false });
    } catch (e) {
      if (e.name === "AbortError" || seq !== jobView.transcriptSeq) return;
      const t = $("transcript-empty");
      t.hidden = false;
      t.textContent = e.status === 409 || e.status === 404
        ? "No transcript yet." : `Could not load the transcript: ${e.message}`;
    }
  }

  function renderTranscript() {
    const list = $("transcript");
    const query = $("transcript-filter").value.trim();
    const canSeek = mediaReady();
    const shown = query
      ? jobView.segments.filter((s) => highlighted(s.text, query).some((n) => n.nodeName === "MARK"))
      : jobView.segments;
    setKids(list, ...shown.map((s) => {
      const label = formatClock(s.start);
      const ts = canSeek
        ? el("button", {
          type: "button", class: "ts", "aria-label": `Play from ${label}`,
          onclick: () => goToTime(s.start, { play: true }),
        }, label)
        : el("a", { class: "ts", href: `#/jobs/${jobView.id}?t=${s.start}`, "aria-label": `Link to ${label}` }, label);
      return el("li", { dataset: { start: String(s.start), end: String(s.end) } },
        ts, el("span", { class: "text" }, highlighted(s.text, query)));
    }));
    $("transcript-filter").closest(".field").hidden = !jobView.segments.length;
    const empty = $("transcript-empty");
    if (!jobView.segments.length) {
      empty.hidden = false;
      empty.textContent = "The transcript is empty (no speech found).";
    } else if (!shown.length) {
      empty.hidden = false;
      empty.textContent = "No segment contains these words.";
    } else {
      empty.hidden = true;
    }
  }

  function renderDownloads(job) {
    const box = $("downloads");
    box.replaceChildren(...["txt", "srt", "vtt", "json"].map((format) =>
      el("button", {
        type: "button", class: "small quiet", "aria-label": `Download the transcript as ${format}`,
        onclick: () => download(job, format),
      }, format)));
  }

  async function download(job, format) {
    try {
      const res = await api(`/jobs/${encodeURIComponent(job.id)}/transcript?format=${format}`, { raw: true });
      const blob = await res.blob();
      const a = el("a", {
        href: URL.createObjectURL(blob),
        download: `${(jobTitle(job) || `job-${job.id}`).replace(/[\\/:*?"<>|]+/g, "_").slice(0, 120)}.${format}`,
      });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    } catch (e) {
      announce(`Download failed: ${e.message}`);
    }
  }

  // The media of a job, when it is on the server (an upload or a local file), is
  // GET /api/v1/jobs/ID/media (docs/api.md), served with ranges so the player can seek; when it has
  // none (404 media_unavailable) the player stays hidden and timestamps link to the segment.
  function setupPlayer(job) {
    const url = auth.withToken(`${API}/jobs/${encodeURIComponent(job.id)}/media`);
    const player = $("player");
    jobView.mediaUrl = "pending";
    const onReady = () => {
      if (jobView.id !== job.id) return;
      jobView.mediaUrl = url;
      $("player-box").hidden = false;
      renderTranscript();
      if (jobView.targetMs !== null) goToTime(jobView.targetMs, { play: false });
    };
    const onFail = () => {
      if (jobView.id !== job.id) return;
      jobView.mediaUrl = "none"; // not asked for again while this job is shown
      $("player-box").hidden = true;
    };
    player.addEventListener("loadedmetadata", onReady, { once: true });
    player.addEventListener("error", onFail, { once: true });
    player.src = url;
    player.load();
  }

  function mediaReady() {
    return Boolean(jobView.mediaUrl) && jobView.mediaUrl !== "pending" && jobView.mediaUrl !== "none";
  }

  function goToTime(ms, { play }) {
    jobView.targetMs = ms;
    const player = $("player");
    if (mediaReady()) {
      player.currentTime = ms / 1000;
      if (play) player.play().catch(() => {});
    }
    const list = $("transcript");
    let best = null;
    for (const li of list.children) {
      li.classList.remove("target");
      if (Number(li.dataset.start) <= ms) best = li;
    }
    if (!best) best = list.firstElementChild;
    if (best) {
      best.classList.add("target");
      best.scrollIntoView({ block: "center" });
    }
  }

  function onPlayerTime() {
    const ms = $("player").currentTime * 1000;
    for (const li of $("transcript").children) {
      const on = Number(li.dataset.start) <= ms && ms < Number(li.dataset.end);
      li.classList.toggle("current", on);
    }
  }

  // GET /jobs/ID/entities: {entities: [{canonical, type, mentions: N}], mentions: [{entity,
  // canonical, type, start_ms, end_ms, context, link}]} -> one entry per entity with its mentions.
  function groupEntities(data) {
    const byKey = new Map();
    const key = (name, type) => `${type}\u0000${name}`;
    for (const e of data.entities || []) {
      byKey.set(key(e.canonical, e.type), {
        name: e.canonical, type: e.type, count: Number(e.mentions) || 0, aliases: new Set(), mentions: [],
      });
    }
    for (const m of data.mentions || []) {
      const name = m.canonical || m.entity;
      const k = key(name, m.type);
      if (!byKey.has(k)) byKey.set(k, { name, type: m.type, count: 0, aliases: new Set(), mentions: [] });
      const e = byKey.get(k);
      if (m.entity && m.entity !== name) e.aliases.add(m.entity);
      e.mentions.push({
        start: Number(m.start_ms) || 0, end: Number(m.end_ms) || 0,
        surface: m.entity || name, context: m.context || "", link: m.link || "",
      });
    }
    const out = [...byKey.values()];
    for (const e of out) {
      e.mentions.sort((a, b) => a.start - b.start);
      e.count = Math.max(e.count, e.mentions.length);
    }
    out.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
    return out;
  }

  async function loadEntities(job) {
    const id = job.id;
    try {
      const data = await api(`/jobs/${encodeURIComponent(id)}/entities`, { signal: jobView.controller.signal });
      if (jobView.id !== id) return;
      renderEntities(groupEntities(data));
    } catch (e) {
      if (e.name === "AbortError") return;
      const empty = $("entities-empty");
      empty.hidden = false;
      empty.textContent = `Could not load the entities: ${e.message}`;
    }
  }

  function renderEntities(entities) {
    const empty = $("entities-empty");
    if (!entities.length) {
      empty.hidden = false;
      empty.textContent = "No entities were found.";
      $("timeline").replaceChildren();
      $("entities-table").hidden = true;
      return;
    }
    empty.hidden = true;
    const duration = Math.max(jobView.durationMs, jobView.job ? jobView.job.durationMs : 0,
      ...entities.flatMap((e) => e.mentions.map((m) => m.end)), 1);
    const top = entities.filter((e) => e.mentions.length).slice(0, 12);
    const rows = top.map((e) => el("div", { class: "timeline-row" },
      el("span", { class: "timeline-name", title: `${e.name} (${e.type})` }, e.name),
      el("div", { class: "timeline-track", role: "group", "aria-label": `Mentions of ${e.name}` },
        e.mentions.map((m) => el("button", {
          type: "button", class: "timeline-mark",
          style: `left: ${(100 * m.start / duration).toFixed(3)}%`,
          title: `${formatClock(m.start)} ${m.surface}${m.context ? ` — ${m.context}` : ""}`,
          "aria-label": `${e.name} at ${formatClock(m.start)}`,
          onclick: () => goToTime(m.start, { play: true }),
        })))));
    if (rows.length) {
      rows.push(el("div", { class: "timeline-row", "aria-hidden": "true" }, el("span"),
        el("div", { class: "timeline-axis" },
          el("span", {}, "0:00"), el("span", {}, formatClock(duration / 2)), el("span", {}, formatClock(duration)))));
    }
    setKids($("timeline"), ...rows);
    setKids($("entities-body"), ...entities.map((e) => el("tr", {},
      el("td", {}, e.name, e.aliases.size ? el("span", { class: "aliases" }, [...e.aliases].join(", ")) : null),
      el("td", {}, e.type),
      el("td", { class: "num" }, String(e.count)),
      el("td", {}, e.mentions.length
        ? el("a", {
          href: `#/jobs/${jobView.id}?t=${e.mentions[0].start}`,
          onclick: (ev) => { ev.preventDefault(); goToTime(e.mentions[0].start, { play: true }); },
        }, formatClock(e.mentions[0].start))
        : ""))));
    $("entities-table").hidden = false;
  }

  // ----- search view -----

  let searchController = null;
  async function runSearch(q) {
    $("search-input").value = q;
    $("search-heading").textContent = q ? `Search: ${q}` : "Search";
    const list = $("search-results");
    const summary = $("search-summary");
    list.replaceChildren();
    if (!q) {
      summary.textContent = "Type words to find in every transcript.";
      return;
    }
    if (searchController) searchController.abort();
    searchController = new AbortController();
    summary.textContent = "Searching…";
    try {
      const data = await api(`/search?${new URLSearchParams({ q, limit: "100" })}`, { signal: searchController.signal });
      const hits = data.hits || [];
      summary.textContent = hits.length
        ? `${hits.length}${data.total && data.total > hits.length ? ` of ${data.total}` : ""} result${hits.length === 1 ? "" : "s"}`
        : "Nothing found.";
      setKids(list, ...hits.map((h) => {
        const jobId = h.job_id;
        const start = Number(h.start_ms) || 0;
        const known = store.jobs.get(jobId);
        const title = h.title || (known && jobTitle(known)) || `Job ${jobId}`;
        return el("li", {},
          el("div", { class: "result-head" },
            el("a", { href: `#/jobs/${jobId}?t=${start}`, class: "result-link" },
              el("span", { class: "result-time" }, formatClock(start)), " ", title)),
          el("p", { class: "snippet" }, snippetNodes(h.snippet)));
      }));
    } catch (e) {
      if (e.name === "AbortError") return;
      summary.textContent = `Search failed: ${e.message}`;
    }
  }

  // ----- token dialog -----

  function showTokenDialog(reason) {
    const dialog = $("token-dialog");
    if (dialog.open) return;
    const why = $("token-reason");
    why.textContent = reason || "";
    why.hidden = !reason;
    $("token-input").value = auth.token;
    dialog.showModal();
  }

  function onTokenClose() {
    const dialog = $("token-dialog");
    const value = dialog.returnValue;
    if (value === "save") auth.token = $("token-input").value.trim();
    else if (value === "clear") auth.token = "";
    else return;
    $("token-button").textContent = auth.token ? "Access token ✓" : "Access token";
    live.start();
    render();
  }

  // ----- routing -----

  let route = { name: "jobs" };

  function parseRoute() {
    const hash = location.hash.replace(/^#/, "") || "/";
    const [path, query = ""] = hash.split("?");
    const params = new URLSearchParams(query);
    let m;
    if ((m = path.match(/^\/jobs\/([^/]+)\/?$/))) {
      const raw = decodeURIComponent(m[1]);
      const id = /^\d+$/.test(raw) ? Number(raw) : raw;
      const t = params.get("t");
      return { name: "job", id, t: t !== null && /^\d+$/.test(t) ? Number(t) : null };
    }
    if (path === "/search") return { name: "search", q: params.get("q") || "" };
    return { name: "jobs" };
  }

  function show(view) {
    for (const v of ["jobs", "job", "search"]) $(`view-${v}`).hidden = v !== view;
  }

  function render() {
    const prev = route;
    route = parseRoute();
    show(route.name);
    if (route.name === "jobs") {
      document.title = "aimara";
      renderTable();
      renderOverview();
      refreshJobs();
    } else if (route.name === "job") {
      if (prev.name !== "job" || prev.id !== route.id || !jobView.job) {
        resetJobView(route.id);
        jobView.targetMs = route.t;
        const known = store.jobs.get(route.id);
        if (known) onCurrentJobUpdate(known);
        refreshJob(route.id);
      } else if (route.t !== null) {
        goToTime(route.t, { play: false });
      }
    } else if (route.name === "search") {
      document.title = `${route.q} · search · aimara`;
      runSearch(route.q);
    }
    if (prev.name !== route.name) $("main").focus({ preventScroll: true });
  }

  // PUT /settings {parallel, concurrency}: the server applies it to the jobs it starts next. The
  // latest change wins: one waiting in a short timer replaces the one before it.
  let workLimitTimer = null;
  function saveWorkLimit() {
    clearTimeout(workLimitTimer);
    workLimitTimer = setTimeout(async () => {
      const parallel = $("submit-parallel").checked;
      const concurrency = Number($("submit-concurrency").value);
      try {
        const s = await api("/settings", { method: "PUT", json: { parallel, concurrency } });
        announce(s.max_active_jobs === 1 ? "One job at a time" : `${s.max_active_jobs} jobs at once`);
      } catch (e) {
        alertMessage(`Could not change how many jobs run at once: ${e.message}`);
      }
    }, 250);
  }

  // What the server runs with (GET /settings): shown as the form's defaults.
  async function loadSettings() {
    try {
      const s = await api("/settings");
      // The server runs one model; a job may only ask for it (docs/api.md), so it is all we offer.
      const models = Array.isArray(s.models) && s.models.length ? s.models : (s.model ? [s.model] : []);
      if (models.length) {
        setKids($("submit-model"), ...models.map((m) => el("option", { value: m }, m)));
      }
      if (s.language && s.language !== "auto") {
        const opt = $("submit-language").querySelector('option[value=""]');
        opt.textContent = `server default (${s.language})`;
      }
      if (Number.isInteger(s.concurrency) && s.concurrency >= 1 && s.concurrency <= 10) {
        $("submit-concurrency").value = String(s.concurrency);
        $("submit-parallel").checked = s.parallel !== false;
        $("submit-concurrency").dispatchEvent(new Event("input"));
      }
    } catch { /* older server, or no token yet: keep the form's own defaults */ }
  }

  // ----- start -----

  function init() {
    $("submit-form").addEventListener("submit", onSubmit);
    const slider = $("submit-concurrency");
    const syncConcurrency = () => {
      $("concurrency-value").textContent = slider.value;
      slider.setAttribute("aria-valuetext", `${slider.value} at once`);
      slider.disabled = !$("submit-parallel").checked;
    };
    slider.addEventListener("input", syncConcurrency);
    $("submit-parallel").addEventListener("change", syncConcurrency);
    syncConcurrency();
    // The switch and the slider set how many jobs the server works on at once, from now on.
    slider.addEventListener("change", saveWorkLimit);
    $("submit-parallel").addEventListener("change", saveWorkLimit);

    $("state-filter").addEventListener("change", (ev) => {
      store.filter = ev.target.value;
      store.offset = 0;
      refreshJobs();
    });
    $("page-prev").addEventListener("click", () => {
      store.offset = Math.max(0, store.offset - PAGE_SIZE);
      refreshJobs();
    });
    $("page-next").addEventListener("click", () => {
      store.offset += PAGE_SIZE;
      refreshJobs();
    });

    $("search-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const q = $("search-input").value.trim();
      if (!q) return;
      const target = `#/search?${new URLSearchParams({ q })}`;
      if (location.hash === target) runSearch(q);
      else location.hash = target;
    });

    let filterTimer = null;
    $("transcript-filter").addEventListener("input", () => {
      clearTimeout(filterTimer);
      filterTimer = setTimeout(renderTranscript, 120);
    });
    $("player").addEventListener("timeupdate", onPlayerTime);

    $("token-button").addEventListener("click", () => showTokenDialog());
    $("token-dialog").addEventListener("close", onTokenClose);
    $("token-button").textContent = auth.token ? "Access token ✓" : "Access token";

    window.addEventListener("hashchange", render);
    render();
    live.start();
    loadSettings();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
