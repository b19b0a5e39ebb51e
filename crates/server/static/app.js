// vitalcore map page: draws areas from the server's GeoJSON into an SVG
// (bundled boundaries, no map tiles, no external library) with the area
// names on it, replays the period month by month, keeps the view in the
// URL (shareable), sorts the area table, and shows an area's profile.
// Its texts come from the page (`data-messages`, the staff message table).
"use strict";

const $ = (id) => document.getElementById(id);
const BANDS = [[0, "#fff5d6"], [2, "#fdd49e"], [3.5, "#fc8d59"], [5, "#e34a33"], [6.5, "#9e0000"]];
const APP = $("app");
const LANG = APP.dataset.lang || "en";
const MESSAGES = JSON.parse(APP.dataset.messages || "{}");
const SETTINGS = ["unit", "category", "measure", "from", "to"];
let labels = {};
let selected = null;
let months = [];
let playing = null;
let last = null;
let sort = { key: "score", dir: -1 };
const cache = new Map();

/// A text of the page's language with its {placeholders} filled.
function tr(key, values = {}) {
  const text = MESSAGES[key] ?? key;
  return text.replace(/\{([a-z_]+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
}

function colour(score) {
  let c = BANDS[0][1];
  for (const [min, col] of BANDS) if (score >= min) c = col;
  return c;
}

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[ch]));
}

const number = (v, digits = 1) => v.toLocaleString(LANG, { minimumFractionDigits: digits, maximumFractionDigits: digits });

/// The month the slider shows (YYYY-MM), or null for the whole period.
function month() {
  const i = Number($("month").value);
  return i > 0 ? months[i - 1] : null;
}

function query() {
  const p = new URLSearchParams({ unit: $("unit").value });
  const m = month();
  const from = m || $("from").value, to = m || $("to").value;
  if (from) p.set("from", from);
  if (to) p.set("to", to);
  if ($("category").value) p.set("category", $("category").value);
  return p;
}

/// The view as the address bar keeps it: every setting, the month, the area.
function saveView() {
  const p = new URLSearchParams();
  for (const id of SETTINGS) if ($(id).value) p.set(id, $(id).value);
  if (month()) p.set("month", month());
  if (selected) p.set("area", selected);
  if (sort.key !== "score" || sort.dir !== -1) p.set("sort", `${sort.key}${sort.dir < 0 ? "-" : ""}`);
  history.replaceState(null, "", `${location.pathname}?${p}${location.hash}`);
}

async function getJSON(url) {
  if (cache.has(url)) return cache.get(url);
  const r = await fetch(url);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  if (url.startsWith("/api/v1/boundaries")) cache.set(url, body);
  return body;
}

function setSelect(id, value) {
  if (value && [...$(id).options].some((o) => o.value === value)) $(id).value = value;
}

async function init() {
  $("controls").addEventListener("submit", (e) => e.preventDefault());
  const fw = await getJSON("/api/v1/framework");
  const sel = $("category");
  for (const [name, list] of [[tr("dimensions"), fw.dimensions], [tr("themes"), fw.themes]]) {
    const og = document.createElement("optgroup");
    og.label = name;
    for (const d of list) {
      labels[d.id] = d.labels[LANG] || d.labels.en;
      const o = document.createElement("option");
      o.value = d.id;
      o.textContent = labels[d.id];
      og.appendChild(o);
    }
    sel.appendChild(og);
  }
  // Colours are set through the DOM, not in markup: the Content-Security-Policy refuses inline styles.
  BANDS.forEach(([min, col], i) => {
    const span = document.createElement("span");
    span.style.background = col;
    if (i >= 4) span.style.color = "#fff"; // contrast of at least 4.5:1 either way
    span.textContent = `${min}${i + 1 < BANDS.length ? "–" + BANDS[i + 1][0] : "–10"}`;
    $("legend").appendChild(span);
  });
  // A shared address opens the same view.
  const wanted = new URLSearchParams(location.search);
  for (const id of ["unit", "category", "measure"]) setSelect(id, wanted.get(id));
  for (const id of ["from", "to"]) if (/^\d{4}-\d{2}$/.test(wanted.get(id) || "")) $(id).value = wanted.get(id);
  const s = /^(name|events|fatalities|category|critical|pervasive|score)(-?)$/.exec(wanted.get("sort") || "");
  if (s) sort = { key: s[1], dir: s[2] ? -1 : 1 };
  selected = wanted.get("area");

  for (const id of ["unit", "category", "from", "to"]) $(id).addEventListener("change", () => { stop(); refresh(true); });
  $("measure").addEventListener("change", () => { saveView(); if (last) { drawMap(last); drawTable(last); } });
  $("month").addEventListener("input", () => { stop(); showMonth(); });
  $("play").addEventListener("click", () => (playing ? stop() : play()));
  for (const b of document.querySelectorAll("#area-table th button")) {
    b.addEventListener("click", () => {
      const key = b.dataset.sort;
      sort = sort.key === key ? { key, dir: -sort.dir } : { key, dir: key === "name" || key === "category" ? 1 : -1 };
      saveView();
      if (last) drawTable(last);
    });
  }
  await refresh(true, wanted.get("month"));
}

/// The months from..to, YYYY-MM.
function monthsBetween(from, to) {
  const out = [];
  if (!from || !to) return out;
  let [y, m] = from.split("-").map(Number);
  const [ty, tm] = to.split("-").map(Number);
  while ((y < ty || (y === ty && m <= tm)) && out.length < 1200) {
    out.push(`${y}-${String(m).padStart(2, "0")}`);
    m += 1;
    if (m > 12) { m = 1; y += 1; }
  }
  return out;
}

/// Reloads the whole period (`rebuild`: the months of the slider too), then
/// the month `at` when given.
async function refresh(rebuild, at) {
  $("status").textContent = tr("loading");
  try {
    const keep = month();
    $("month").value = "0";
    const fc = await getJSON("/api/v1/boundaries?" + query());
    if (!$("from").value && fc.from) $("from").value = fc.from;
    if (!$("to").value && fc.to) $("to").value = fc.to;
    if (rebuild) {
      months = monthsBetween($("from").value || fc.from, $("to").value || fc.to);
      $("month").max = String(months.length);
    }
    const i = months.indexOf(at || keep);
    if (i >= 0) {
      $("month").value = String(i + 1);
      await showMonth();
    } else {
      show(fc);
    }
  } catch (e) {
    $("status").textContent = tr("failed", { reason: e.message });
  }
}

/// Draws the month the slider is on (or the whole period).
async function showMonth() {
  const m = month();
  $("month-label").textContent = m || tr("whole_period");
  $("month").setAttribute("aria-valuetext", m || tr("whole_period"));
  try {
    show(await getJSON("/api/v1/boundaries?" + query()));
  } catch (e) {
    $("status").textContent = tr("failed", { reason: e.message });
  }
}

function show(fc) {
  last = fc;
  const m = month();
  $("month-label").textContent = m || tr("whole_period");
  drawMap(fc);
  drawTable(fc);
  const n = fc.features.filter((f) => f.properties.events > 0).length;
  $("status").textContent = tr("status", { n: fc.features.length, with: n, from: m || fc.from, to: m || fc.to });
  saveView();
  if (selected) showProfile(selected, false);
}

/// Replays the period: one month a second and a half, from the slider's month on.
function play() {
  if (!months.length) return;
  if (Number($("month").value) >= months.length) $("month").value = "0";
  $("play").textContent = tr("pause");
  $("play").setAttribute("aria-pressed", "true");
  const step = async () => {
    if (!playing) return;
    const next = Number($("month").value) + 1;
    if (next > months.length) { stop(); return; }
    $("month").value = String(next);
    await showMonth();
    if (playing) playing = setTimeout(step, 1500);
  };
  playing = setTimeout(step, 0);
}

function stop() {
  if (playing) clearTimeout(playing);
  playing = null;
  $("play").textContent = tr("play");
  $("play").setAttribute("aria-pressed", "false");
}

function project(features) {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const f of features) if (f.geometry) for (const ring of rings(f.geometry)) for (const [x, y] of ring) {
    minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
  }
  const k = Math.cos(((minY + maxY) / 2) * Math.PI / 180); // equirectangular, true at mid-latitude
  const w = 1000, h = 1000 * (maxY - minY) / Math.max((maxX - minX) * k, 1e-9);
  const sx = (x) => ((x - minX) * k / Math.max((maxX - minX) * k, 1e-9)) * w;
  const sy = (y) => ((maxY - y) / Math.max(maxY - minY, 1e-9)) * h;
  const path = (g) => rings(g).map((ring) => "M" + ring.map(([x, y]) => sx(x).toFixed(1) + "," + sy(y).toFixed(1)).join("L") + "Z").join("");
  return { w, h, path, sx, sy };
}

function rings(g) {
  return g.type === "Polygon" ? g.coordinates : g.type === "MultiPolygon" ? g.coordinates.flat() : [];
}

/// Where an area's name goes: the centroid of its largest ring (a good
/// enough inside point for prefectures; grid cells are not labelled).
function labelPoint(g) {
  let best = null;
  for (const ring of g.type === "Polygon" ? [g.coordinates[0]] : g.type === "MultiPolygon" ? g.coordinates.map((p) => p[0]) : []) {
    let a = 0, cx = 0, cy = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const cross = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
      a += cross; cx += (ring[j][0] + ring[i][0]) * cross; cy += (ring[j][1] + ring[i][1]) * cross;
    }
    if (a !== 0 && (!best || Math.abs(a) > best.a)) best = { a: Math.abs(a), x: cx / (3 * a), y: cy / (3 * a) };
  }
  return best;
}

function drawMap(fc) {
  const measure = $("measure").value;
  const shapes = fc.features.filter((f) => f.geometry);
  const svg = $("map");
  if (!shapes.length) { svg.innerHTML = ""; return; }
  const { w, h, path, sx, sy } = project(shapes);
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  const named = shapes.length <= 80;
  const areas = shapes.map((f) => {
    const p = f.properties;
    const title = tr("area_title", { name: p.name, measure: tr(measure), score: number(p[measure]), events: p.events, deaths: p.fatalities });
    return `<path data-id="${esc(p.id)}" d="${path(f.geometry)}" fill="${colour(p[measure])}"><title>${esc(title)}</title></path>`;
  }).join("");
  const names = named ? shapes.map((f) => {
    const at = labelPoint(f.geometry);
    return at ? `<text x="${sx(at.x).toFixed(1)}" y="${sy(at.y).toFixed(1)}">${esc(f.properties.name)}</text>` : "";
  }).join("") : "";
  svg.innerHTML = areas + names;
  for (const el of svg.querySelectorAll("path")) {
    el.classList.toggle("selected", el.dataset.id === selected);
    el.addEventListener("click", () => showProfile(el.dataset.id, true));
  }
}

function sortValue(p, key) {
  switch (key) {
    case "name": return p.name || "";
    case "category": return labels[p.category] || p.category || "";
    case "score": return p.critical + p.pervasive;
    default: return p[key];
  }
}

function drawTable(fc) {
  const rows = fc.features.map((f) => f.properties);
  rows.sort((a, b) => {
    const x = sortValue(a, sort.key), y = sortValue(b, sort.key);
    const c = typeof x === "string" ? x.localeCompare(y, LANG) : x - y;
    return sort.dir * c || (b.critical + b.pervasive - a.critical - a.pervasive);
  });
  for (const th of document.querySelectorAll("#area-table th")) {
    const key = th.querySelector("button").dataset.sort;
    th.setAttribute("aria-sort", key === sort.key ? (sort.dir > 0 ? "ascending" : "descending") : "none");
  }
  const body = $("area-table").tBodies[0];
  body.innerHTML = rows.map((p) => `<tr data-id="${esc(p.id)}">
    <td><button type="button">${esc(p.name)}</button></td><td class="num">${p.events}</td><td class="num">${p.fatalities}</td>
    <td>${esc(labels[p.category] || p.category || "")}</td>
    <td class="num">${number(p.critical)}</td><td class="num">${number(p.pervasive)}</td></tr>`).join("");
  for (const tr_ of body.rows) tr_.querySelector("button").addEventListener("click", () => showProfile(tr_.dataset.id, true));
}

function sparkline(trend) {
  const max = Math.max(1, ...trend.map((t) => t.events));
  const w = 160, h = 28, step = w / Math.max(trend.length - 1, 1);
  const pts = trend.map((t, i) => `${(i * step).toFixed(1)},${(h - (t.events / max) * h).toFixed(1)}`).join(" ");
  return `<svg width="${w}" height="${h}" aria-hidden="true"><polyline fill="none" stroke="#12344d" stroke-width="1.5" points="${pts}"/></svg>`;
}

async function showProfile(id, chosen) {
  selected = id;
  if (chosen) saveView();
  for (const el of document.querySelectorAll("#map path")) el.classList.toggle("selected", el.dataset.id === id);
  try {
    const p = await getJSON(`/api/v1/areas/${encodeURIComponent(id)}/profile?` + query());
    const rows = (list) => list.map((d) => `<tr>
      <td>${esc(labels[d.category] || d.label)}${d.total.priority ? ` <span class="priority" title="${esc(tr("priority_title"))}">${esc(tr("priority"))}</span>` : ""}</td>
      <td class="num">${d.total.events}</td><td class="num">${d.total.fatalities}</td>
      <td><span class="bar" data-width="${d.total.critical * 6}"></span> ${number(d.total.critical)}</td>
      <td><span class="bar p" data-width="${d.total.pervasive * 6}"></span> ${number(d.total.pervasive)}</td>
      <td>${sparkline(d.trend)}</td></tr>`).join("");
    const head = `<thead><tr><th scope="col">${esc(tr("dimension"))}</th><th scope="col" class="num">${esc(tr("events"))}</th><th scope="col" class="num">${esc(tr("deaths"))}</th>
      <th scope="col">${esc(tr("critical"))}</th><th scope="col">${esc(tr("pervasive"))}</th><th scope="col">${esc(tr("monthly"))}</th></tr></thead>`;
    const link = (l) => esc(l.lag
      ? tr("link_lag", { from: labels[l.from] || l.from, to: labels[l.to] || l.to, lag: l.lag })
      : tr("link_same", { from: labels[l.from] || l.from, to: labels[l.to] || l.to }));
    $("profile").innerHTML = `<h2>${esc(p.name)} <small>${esc(p.unit_id)}</small></h2>
      <p>${esc(tr("profile_summary", { from: p.from, to: p.to, events: p.events, deaths: p.fatalities, civilians: p.civilian_fatalities,
        sources: p.sources.map(([s, n]) => `${s} ${n}`).join(", ") }))}</p>
      <div class="wide" tabindex="0" role="region" aria-label="${esc(tr("dimensions"))}"><table>${head}<tbody>${rows(p.dimensions)}</tbody></table></div>
      <h3>${esc(tr("themes"))}</h3>
      <div class="wide" tabindex="0" role="region" aria-label="${esc(tr("themes"))}"><table>${head}<tbody>${rows(p.themes) || `<tr><td colspan="6">${esc(tr("none_recorded"))}</td></tr>`}</tbody></table></div>
      <h3>${esc(tr("links"))}</h3>
      ${p.links.length ? `<ul>${p.links.map((l) => `<li>${link(l)} (r = ${number(l.strength, 2)}, q = ${number(l.q_value, 3)})</li>`).join("")}</ul>`
        : `<p class="hint">${esc(tr("no_link"))}</p>`}`;
    for (const bar of $("profile").querySelectorAll(".bar[data-width]")) bar.style.width = `${bar.dataset.width}px`;
    const outlookHtml = await outlook(id);
    if (selected === id) $("profile").insertAdjacentHTML("beforeend", outlookHtml);
  } catch (e) {
    $("profile").innerHTML = `<p>${esc(tr("no_profile", { reason: e.message }))}</p>`;
  }
}

// The stored forecast for the coming months (P(any death), mean and the
// 5-95% range of the forecast distribution, the backtest skill of the model)
// and the area's open early warnings. Written by `vitalcore warnings run`.
async function outlook(id) {
  const area = encodeURIComponent(id);
  let html = `<h3>${esc(tr("outlook"))}</h3>`;
  try {
    const f = await getJSON(`/api/v1/forecasts?unit=${encodeURIComponent($("unit").value)}&area=${area}`);
    const fmt = (v) => (v == null ? "–" : v < 10 ? number(v) : number(v, 0));
    const skill = f.model_skill || {};
    const crps = Object.keys(skill).sort().map((h) => `${h} ${number(skill[h].crps, 3)}`).join(", ");
    html += f.rows.length ? `<div class="wide" tabindex="0" role="region" aria-label="${esc(tr("outlook"))}"><table><thead><tr><th scope="col">${esc(tr("month"))}</th><th scope="col" class="num">${esc(tr("p_any"))}</th>
      <th scope="col" class="num">${esc(tr("expected"))}</th><th scope="col" class="num">${esc(tr("range"))}</th></tr></thead><tbody>
      ${f.rows.map((r) => `<tr><td>${esc(r.month)}</td><td class="num">${(100 * r.p_any).toFixed(0)}%</td>
        <td class="num">${fmt(r.mean)}</td><td class="num">${fmt(r.q05)}–${fmt(r.q95)}</td></tr>`).join("")}</tbody></table></div>
      <p class="hint">${esc(tr("model", { model: f.run.model, origin: f.run.origin, crps: crps || tr("not_measured") }))}</p>`
      : `<p class="hint">${esc(tr("no_forecast"))}</p>`;
  } catch (e) {
    html += `<p class="hint">${esc(tr("no_forecast_stored", { reason: e.message }))}</p>`;
  }
  try {
    const w = await getJSON(`/api/v1/warnings?open=true&area=${area}`);
    html += w.warnings.length ? `<h3>${esc(tr("open_warnings"))}</h3><ul>${w.warnings.map((x) => `<li><strong>${esc(x.kind)}</strong> ${esc(x.month)}: ${esc(x.reason)} (${esc(x.status)})</li>`).join("")}</ul>`
      : `<p class="hint">${esc(tr("no_warning"))}</p>`;
  } catch (e) {
    html += `<p class="hint">${esc(tr("warnings_unavailable", { reason: e.message }))}</p>`;
  }
  return html;
}

init().catch((e) => { $("status").textContent = tr("start_failed", { reason: e.message }); });
