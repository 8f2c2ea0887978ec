// The checkpoint page: read the camera continuously with jsQR, send each new code to the station,
// show its verdict full-screen with an icon, words in Chinese and English, and a tone; then scan on.
// Nothing here loads anything from anywhere but this station (the page's CSP forbids it too).
"use strict";

(() => {
  const HOLD_MS = { admit: 1500, not_checked: 1500, already: 1500, place: 2500, deny: 2500, check_id: 2500, station_error: 4000 };
  const KINDS = ["admit", "not_checked", "deny", "check_id", "prompt", "already", "place", "station_error"];
  const TITLES = "通行禁止免检未核验证件请已扫描场所码非健康设备就绪";
  const ABSENT_FRAMES = 4; // a code unseen this many frames has left the camera: the same one shown again is new
  const MARKER_BITS = 12, MARKER_CELL = 16; // the test video's frame number, in the top-left corner

  const $ = (id) => document.getElementById(id);
  const video = $("camera"), canvas = $("frame");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const withStats = location.hash.includes("stats");
  // Timestamps for the browser test (frame reads, decode times, verdict renders); empty unless #stats.
  const stats = (window.__station_stats = { reads: [], verdicts: [], decodeMs: [], captureMs: [], callbackLagMs: [], sendLagMs: [] });

  let lastSent = null, absent = 0, inFlight = false, holdTimer = null, pending = "", token = "";
  let decoder = "station", grey = null;
  let audio = null;

  // -- camera and decoding --------------------------------------------------------------------

  async function warmUp() {
    // The first person in line should not pay for cold paths: start the audio context (~100 ms
    // the first time), decode a packaged QR image once, load every verdict icon, and draw every
    // verdict title once (its glyphs rasterised) unseen.
    try { audio = new AudioContext(); } catch (err) { audio = null; }
    const icons = KINDS.map((kind) => new Image());
    KINDS.forEach((kind, i) => { icons[i].src = "/static/icons/" + kind + ".svg"; });
    const sample = new Image();
    sample.src = "/static/warmup.png";
    await sample.decode();
    const c = document.createElement("canvas");
    c.width = sample.width; c.height = sample.height;
    const g = c.getContext("2d", { willReadFrequently: true });
    g.drawImage(sample, 0, 0);
    jsQR(g.getImageData(0, 0, c.width, c.height).data, c.width, c.height, { inversionAttempts: "dontInvert" });
    await Promise.all(icons.map((icon) => icon.decode().catch(() => null)));
    // Lay out and paint the verdict screen once, nearly transparent, with every title's glyphs.
    const box = $("verdict");
    box.style.opacity = "0.01";
    box.className = "k-admit";
    $("verdict-zh").textContent = TITLES;
    box.hidden = false;
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    box.hidden = true;
    box.style.opacity = "";
  }

  async function start() {
    try { await warmUp(); } catch (err) { /* a slower first scan, nothing worse */ }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
      video.srcObject = stream;
      await video.play();
    } catch (err) {
      $("camera-error").textContent = "摄像头不可用 · camera unavailable: " + err.name;
      $("camera-error").hidden = false;
      return;
    }
    if ("requestVideoFrameCallback" in video) {
      video.requestVideoFrameCallback(onFrame);
    } else {
      requestAnimationFrame(() => onFrame(performance.now(), null));
    }
  }

  function onFrame(now, meta) {
    const w = video.videoWidth, h = video.videoHeight;
    if (w && h && !(decoder === "station" && inFlight)) {
      if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
      const began = performance.now();
      context.drawImage(video, 0, 0, w, h);
      const image = context.getImageData(0, 0, w, h);
      if (withStats) stats.captureMs.push(performance.now() - began);
      const when = { t: meta && meta.presentationTime ? meta.presentationTime : now, frame: withStats ? readMarker(image) : -1 };
      if (withStats) {
        stats.callbackLagMs.push(performance.now() - when.t);
        stats.reads.push(when);
        if (stats.reads.length > 5000) stats.reads.splice(0, 1000);
      }
      if (decoder === "station") sendFrame(image, when);
      else decodeHere(image, when);
    }
    if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(onFrame);
    else requestAnimationFrame((t) => onFrame(t, null));
  }

  function decodeHere(image, when) {
    const began = performance.now();
    const code = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
    if (withStats) stats.decodeMs.push(performance.now() - began);
    seen(code ? code.data : null, when);
  }

  async function sendFrame(image, when) {
    // The station decodes (zxing-cpp): send 8-bit grey pixels, one frame in flight at a time.
    const n = image.width * image.height, rgba = image.data;
    if (!grey || grey.length !== n) grey = new Uint8Array(n);
    for (let i = 0, j = 0; i < n; i++, j += 4) grey[i] = (rgba[j] * 77 + rgba[j + 1] * 150 + rgba[j + 2] * 29) >> 8;
    inFlight = true;
    const sent = performance.now();
    if (withStats) stats.sendLagMs.push(sent - when.t);
    try {
      const response = await fetch("/api/frame", {
        method: "POST",
        body: grey,
        headers: { "Content-Type": "application/octet-stream", "X-Frame-Width": String(image.width), "X-Frame-Height": String(image.height), "X-Last": lastSent || "" },
      });
      const answer = await response.json();
      if (withStats) stats.decodeMs.push(performance.now() - sent);
      if (response.status !== 200) {
        show({ kind: "station_error", title_zh: "设备未就绪", title_en: "STATION NOT READY", message: answer.error }, when);
      } else if (answer.seen === null) {
        if (++absent >= ABSENT_FRAMES) lastSent = null;
      } else {
        absent = 0;
        if (answer.verdict) {
          lastSent = answer.seen;
          when.sent = sent; when.answered = performance.now();
          show(answer.verdict, when);
        }
      }
    } catch (err) {
      show({ kind: "station_error", title_zh: "设备未就绪", title_en: "STATION NOT READY", message: String(err) }, when);
    } finally {
      inFlight = false;
    }
  }

  function readMarker(image) {
    // The test video writes its frame number as MARKER_BITS black/white cells along the top edge.
    let value = 0;
    for (let bit = 0; bit < MARKER_BITS; bit++) {
      const x = bit * MARKER_CELL + MARKER_CELL / 2, y = MARKER_CELL / 2;
      const luma = image.data[(y * image.width + x) * 4];
      value = value * 2 + (luma < 128 ? 1 : 0);
    }
    return value;
  }

  function seen(text, when) {
    if (text === null) {
      if (++absent >= ABSENT_FRAMES) lastSent = null;
      return;
    }
    absent = 0;
    if (text === lastSent || inFlight) return;
    lastSent = text;
    send("/api/scan", { text: text }, when);
  }

  // -- the station ----------------------------------------------------------------------------

  async function post(path, body, headers) {
    const response = await fetch(path, {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/json" }, headers || {}),
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    return [response.status, await response.json()];
  }

  async function send(path, body, when) {
    inFlight = true;
    const sent = performance.now();
    try {
      const [status, answer] = await post(path, body);
      if (when) { when.sent = sent; when.answered = performance.now(); }
      if (status !== 200) {
        if (path === "/api/id") { $("id-error").textContent = answer.error; return; }
        answer.kind = "station_error"; answer.title_zh = "设备未就绪"; answer.title_en = "STATION NOT READY";
        answer.message = answer.error;
      }
      show(answer, when);
    } catch (err) {
      show({ kind: "station_error", title_zh: "设备未就绪", title_en: "STATION NOT READY", message: String(err) }, when);
    } finally {
      inFlight = false;
    }
  }

  function show(v, when) {
    // The same question again (the camera lost the card a moment): keep what is being typed.
    if (v.kind === "prompt" && v.pending && v.pending === pending && !$("verdict").hidden) return;
    clearTimeout(holdTimer);
    const box = $("verdict");
    box.className = "k-" + v.kind;
    $("verdict-icon").src = "/static/icons/" + (KINDS.includes(v.kind) ? v.kind : "station_error") + ".svg";
    $("verdict-zh").textContent = v.title_zh;
    $("verdict-en").textContent = v.title_en;
    $("verdict-message").textContent = v.message || "";
    $("v-name").textContent = v.name || "—";
    $("v-region").textContent = v.region_zh ? v.region_zh + " · " + v.region_en : "—";
    $("v-colour").textContent = v.colour ? colourWords(v.colour) : "—";
    $("v-age").textContent = v.age || "—";
    $("verdict-holder").hidden = !v.name;
    $("verdict-via").textContent = v.via || "";
    pending = v.kind === "prompt" ? v.pending : "";
    $("id-form").hidden = !pending;
    box.hidden = false;
    if (pending) {
      $("id-number").value = "";
      $("id-error").textContent = "";
      $("id-number").focus();
    } else {
      holdTimer = setTimeout(idle, HOLD_MS[v.kind] || 2000);
    }
    if (v.counts) counts(v.counts);
    tone(v.kind);
    if (withStats) {
      requestAnimationFrame(() => {
        stats.verdicts.push({ t: performance.now(), kind: v.kind, rule: v.rule || "", first: when || null });
      });
    }
  }

  function idle() {
    $("verdict").hidden = true;
    pending = "";
  }

  function colourWords(name) {
    const words = { green: "绿码 green", yellow: "黄码 yellow", red: "红码 red" };
    return words[name] || name;
  }

  function counts(c) {
    $("n-admit").textContent = c.admit + (c.not_checked || 0);
    $("n-deny").textContent = c.deny + (c.error || 0);
  }

  // A browser may start the audio context suspended until someone touches the page.
  for (const event of ["pointerdown", "keydown"]) {
    document.addEventListener(event, () => { if (audio && audio.state === "suspended") audio.resume(); });
  }

  function tone(kind) {
    if (!audio) return;
    try {
      const good = kind === "admit" || kind === "not_checked";
      const beeps = good ? [[880, 0.12]] : kind === "prompt" || kind === "already" ? [[660, 0.1]] : [[220, 0.18], [220, 0.18]];
      let at = audio.currentTime;
      for (const [hz, length] of beeps) {
        const osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = hz;
        osc.type = good ? "sine" : "square";
        gain.gain.value = 0.2;
        osc.connect(gain).connect(audio.destination);
        osc.start(at);
        osc.stop(at + length);
        at += length + 0.06;
      }
    } catch (err) {
      // No audio device: the words and the icon still say it.
    }
  }

  // -- paper codes: the holder's ID number, typed or from the ID reader's keyboard wedge ------

  $("id-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const number = $("id-number").value.trim();
    if (!number || !pending) return;
    send("/api/id", { pending: pending, number: number }, null); // a person's step: not timed
  });
  $("id-number").addEventListener("keydown", (event) => {
    if (event.key === "Escape" && pending) {
      post("/api/cancel", { pending: pending }).then(([, answer]) => answer.counts && counts(answer.counts));
      idle();
    }
  });

  // -- a guardian's binding or family bundle ----------------------------------------------------

  $("guardian-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const response = await fetch("/api/guardian", { method: "POST", body: await file.arrayBuffer(), headers: { "Content-Type": "application/octet-stream" } });
    const answer = await response.json();
    show({ kind: response.status === 200 ? "prompt" : "deny", title_zh: "代办", title_en: "GUARDIAN", message: answer.message || answer.error, counts: null });
    $("id-form").hidden = true;
    pending = "";
    holdTimer = setTimeout(idle, 2500);
    event.target.value = "";
  });

  // -- the operator panel (the token stays in this page's memory only) --------------------------

  async function operator(path, options) {
    const response = await fetch(path, Object.assign({ headers: {} }, options, {
      headers: Object.assign({ Authorization: "Bearer " + token }, (options && options.headers) || {}),
    }));
    if (response.status === 401) { $("operator-body").hidden = true; throw new Error("令牌错误 · wrong token"); }
    return response;
  }

  async function refresh() {
    const response = await operator("/api/operator/status");
    const s = await response.json();
    if (response.status !== 200) throw new Error(s.error);
    fill($("scene"), s.scenes, s.scene);
    fill($("level"), s.levels, s.level);
    const rows = s.lists.map((l) => row("list " + l.id, "v" + l.version, l.expires, l.seconds_left, l.warning));
    if (s.policy && !s.policy.error) rows.push(row("policy " + s.policy.id, "v" + s.policy.version, s.policy.expires, s.policy.seconds_left, s.policy.warning));
    for (const r of s.revocations) rows.push(row("revocations " + r.series, "v" + r.version, "", null, false));
    $("trust-status").innerHTML = "";
    const table = document.createElement("table");
    table.innerHTML = "<tr><th>item</th><th>version</th><th>expires</th><th>left</th></tr>";
    rows.forEach((r) => table.appendChild(r));
    $("trust-status").appendChild(table);
    if (s.policy && s.policy.error) $("trust-status").append(warning("policy: " + s.policy.error));
    const c = s.counts;
    $("trust-status").append(line("place " + s.place + " · " + (s.log ? "scan log " + s.log : "no scan log")
      + " · today: " + c.admit + " admit, " + c.not_checked + " not checked, " + c.deny + " deny, " + c.error + " invalid"));
    $("trust-status").append(line("versions: " + Object.entries(s.versions).map(([k, v]) => k + " v" + v).join(", ")));
    if (s.last_install) $("install-result").textContent = s.last_install.ok
      ? "installed " + s.last_install.bundle + " v" + s.last_install.version + " (" + s.last_install.source + ")"
      : "refused, old trust kept: " + s.last_install.error;
    $("operator-body").hidden = false;
  }

  function fill(select, values, current) {
    select.innerHTML = "";
    for (const v of values) {
      const option = document.createElement("option");
      option.value = option.textContent = v;
      option.selected = v === current;
      select.appendChild(option);
    }
  }

  function row(item, version, expires, left, warn) {
    const tr = document.createElement("tr");
    const leftWords = left === null ? "" : left < 0 ? "EXPIRED 已过期" : Math.floor(left / 86400) + " d " + Math.floor((left % 86400) / 3600) + " h";
    for (const cell of [item, version, expires.replace("T", " ").slice(0, 16), leftWords]) {
      const td = document.createElement("td");
      td.textContent = cell;
      tr.appendChild(td);
    }
    if (warn) { tr.className = "warn"; tr.lastChild.textContent += " ⚠ 即将过期 expires soon"; }
    return tr;
  }

  function line(text) {
    const p = document.createElement("p");
    p.textContent = text;
    return p;
  }

  function warning(text) {
    const p = document.createElement("p");
    p.className = "warn";
    p.textContent = text;
    return p;
  }

  function guard(action) {
    return async (event) => {
      if (event) event.preventDefault();
      $("operator-error").textContent = "";
      try { await action(event); } catch (err) { $("operator-error").textContent = err.message; }
    };
  }

  $("operator-open").addEventListener("click", () => { $("operator").hidden = false; $("token").focus(); });
  $("operator-close").addEventListener("click", () => { $("operator").hidden = true; });
  $("token-form").addEventListener("submit", guard(async () => { token = $("token").value.trim(); await refresh(); }));
  $("config-form").addEventListener("submit", guard(async () => {
    const body = JSON.stringify({ scene: $("scene").value, level: $("level").value });
    const response = await operator("/api/operator/config", { method: "POST", body: body, headers: { "Content-Type": "application/json" } });
    if (response.status !== 200) throw new Error((await response.json()).error);
    await refresh();
    place();
  }));
  $("bundle-file").addEventListener("change", guard(async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const response = await operator("/api/operator/trust", {
      method: "POST", body: await file.arrayBuffer(), headers: { "Content-Type": "application/octet-stream", "X-File-Name": file.name.slice(0, 100) },
    });
    const answer = await response.json();
    event.target.value = "";
    await refresh();
    if (response.status !== 200) throw new Error("refused, old trust kept: " + answer.error);
  }));
  $("export").addEventListener("click", guard(async () => {
    const response = await operator("/api/operator/export?format=csv");
    if (response.status !== 200) throw new Error((await response.json()).error);
    const link = $("export-link");
    link.href = URL.createObjectURL(await response.blob());
    link.hidden = false;
    link.click();
  }));

  async function place() {
    const response = await fetch("/api/counts");
    const answer = await response.json();
    counts(answer.counts);
    decoder = answer.decoder === "page" ? "page" : "station";
    stats.decoder = decoder;
    $("place").textContent = answer.scene + " · " + answer.level;
  }

  place().then(start);
})();
