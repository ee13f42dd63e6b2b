// Behavior timeline page: video frames, one lane per animal x behavior, painting,
// predictions import, save with conflict check, CSV export.

import { api, queryParam, setQueryParams, withQuery } from "./api.js";
import { EditSession, setStatus } from "./edit-session.js";
import { FrameView } from "./frame-view.js";
import { confirm, erase, labelAt, paint, sortLabels } from "./ranges.js";
import { TimelineLanes } from "./timeline-lanes.js";
import { bindHelp, keyForField, showMessage } from "./ui.js";
import { History } from "./undo.js";

const $ = (id) => document.getElementById(id);

const project = await api("/api/project");
document.title = `${project.name} · behavior timeline`;
$("project-name").textContent = project.name;

let video = null; // the entry of GET /api/videos
let labels = []; // current labels
let eraseMode = false;
const history = new History();
const session = new EditSession({
  field: "labels",
  url: (id) => `/api/videos/${id}/behaviors`,
  items: () => labels,
  adopt: (answer) => {
    take(answer);
    history.replaceCurrent(labels);
  },
  onSaved: () => lanes.draw(),
  onReload: () => video && loadVideo(video.id, { discard: true }),
});

const frameView = new FrameView($("frame-image"), (idx) => {
  document.body.dataset.shownFrame = String(idx);
  updateReadout();
});
const lanes = new TimelineLanes($("timeline"), {
  onSeek: (f) => seek(f),
  onPaint: (lane, start, stop, isErase) => edit(isErase ? erase : paint, lane, start, stop),
  onSelectLane: (i) => selectLane(i),
});

window.etholoop = {
  get videoId() {
    return video?.id ?? null;
  },
  get labels() {
    return structuredClone(labels);
  },
  get currentFrame() {
    return lanes.current;
  },
  get selectedLane() {
    return lanes.selected;
  },
  get mode() {
    return eraseMode ? "erase" : "paint";
  },
  get dirty() {
    return session.dirty;
  },
  /** Page x of the middle of frame `f` in the lanes, for tests. */
  frameToClientX(f) {
    const canvas = lanes.lanes[0].canvas;
    const rect = canvas.getBoundingClientRect();
    return rect.left + (lanes.frameToX(f, canvas) + lanes.frameToX(f + 1, canvas)) / 2;
  },
  save: () => session.save(),
};

// ----- status -----

function updateReadout() {
  if (!video) return;
  const f = lanes.current;
  const t = video.fps ? ` · ${(f / video.fps).toFixed(2)} s` : "";
  const shown = frameView.shown === f || video.kind === "tracks" ? "" : " (loading)";
  $("frame-readout").textContent = `frame ${f} / ${video.n_frames - 1}${t}${shown}`;
}

// ----- edits -----

function setLabels(next, { record = true } = {}) {
  labels = sortLabels(next);
  lanes.labels = labels;
  if (record) history.push(labels);
  lanes.draw();
  session.showDirty();
}

function edit(op, lane, start, stop) {
  setLabels(op(labels, lane.individual, lane.behavior, start, stop));
}

function selectLane(i) {
  lanes.select(i);
  const lane = lanes.lanes[lanes.selected];
  if (lane) $("lane-readout").textContent = `lane: animal ${lane.individual} · ${lane.behavior}`;
}

function seek(f) {
  if (!video) return;
  f = Math.max(0, Math.min(video.n_frames - 1, Math.round(f)));
  lanes.current = f;
  lanes.reveal(f);
  lanes.draw();
  $("scrubber").value = f;
  frameView.show(f);
  updateReadout();
}

function setEraseMode(on) {
  eraseMode = on;
  lanes.eraseMode = on;
  $("mode-paint").classList.toggle("active", !on);
  $("mode-erase").classList.toggle("active", on);
}

/** `[` marks the start; `]` paints (or erases) mark..current on the selected lane. */
function markStop() {
  const lane = lanes.lanes[lanes.selected];
  if (!lane) return;
  const from = lanes.markStart ?? lanes.current;
  const lo = Math.min(from, lanes.current);
  const hi = Math.max(from, lanes.current) + 1;
  lanes.markStart = null;
  $("mark-readout").textContent = "";
  edit(eraseMode ? erase : paint, lane, lo, hi);
}

function confirmPredictions(all) {
  const lane = lanes.lanes[lanes.selected];
  let match = () => true;
  if (!all) {
    const hit = lane && labelAt(labels, lane.individual, lane.behavior, lanes.current, "predicted");
    if (!hit) return showMessage("note", "no predicted range under the cursor in this lane");
    match = (l) => l === hit;
  }
  const before = labels.filter((l) => l.source === "predicted").length;
  const next = confirm(labels, match);
  if (next.filter((l) => l.source === "predicted").length !== before) setLabels(next);
}

// ----- loading and saving -----

/** Show the labels of a GET or PUT .../behaviors answer. */
function take(answer) {
  labels = sortLabels(structuredClone(answer.labels));
  lanes.labels = labels;
}

async function loadVideo(id, { discard = false } = {}) {
  if (!discard && !(await session.save())) {
    $("video-select").value = String(video.id);
    return false;
  }
  const entry = videos.find((v) => v.id === id);
  if (!entry) return false;
  const answer = await api(`/api/videos/${id}/behaviors`);
  video = entry;
  take(answer);
  history.reset(labels);
  session.load(id, answer);
  $("video-select").value = String(id);
  setQueryParams({ video: id });
  const individuals = Math.max(answer.individuals, project.animals, 1);
  lanes.setup(answer.n_frames || entry.n_frames, individuals, answer.behaviors);
  fillIndividuals(individuals);
  selectLane(0);
  $("scrubber").max = String(Math.max(0, entry.n_frames - 1));
  showNoVideo(entry.kind === "tracks");
  frameView.setVideo(entry.kind === "tracks" ? null : id);
  seek(0);
  updateExportLinks();
  document.body.dataset.timelineReady = String(id);
  return true;
}

/** A session of imported tracks has frames to label but no images: say so. */
function showNoVideo(on) {
  let note = $("no-video");
  if (!note) {
    note = document.createElement("p");
    note.id = "no-video";
    note.className = "muted";
    note.textContent = "no video: this session has pose tracks only; label it on the timeline below";
    $("frame-image").after(note);
  }
  note.hidden = !on;
  $("frame-image").hidden = on;
}

async function importPredictions() {
  const file = $("pred-file").files[0];
  if (!video || !file) return showMessage("note", "choose a CSV of per-frame probabilities first");
  if (!(await session.save())) return;
  const form = new FormData();
  form.append("file", file);
  form.append("threshold", $("pred-threshold").value || "0.5");
  form.append("individual", $("io-individual").value || "0");
  setStatus("importing…", "busy");
  try {
    const answer = await api(`/api/videos/${video.id}/behaviors/predictions`, { method: "POST", form });
    take(answer);
    history.reset(labels);
    session.load(video.id, answer);
    lanes.draw();
    const n = answer.labels.filter((l) => l.source === "predicted").length;
    setStatus(`imported: ${n} predicted range(s)`, "ok");
  } catch (error) {
    setStatus(`import failed: ${error.message}`, "error");
  }
}

function fillIndividuals(n) {
  const select = $("io-individual");
  const old = select.value;
  select.replaceChildren(...Array.from({ length: n }, (_, i) => new Option(`animal ${i}`, String(i))));
  if (old && Number(old) < n) select.value = old;
}

function updateExportLinks() {
  if (!video) return;
  const individual = $("io-individual").value || "0";
  for (const form of ["action", "onehot"]) {
    const a = $(`export-${form}`);
    a.href = withQuery(`/api/videos/${video.id}/behaviors.csv`, { form, individual });
    a.setAttribute("download", ""); // the server names the file
  }
}

// ----- controls -----

$("video-select").addEventListener("change", (e) => loadVideo(Number(e.target.value)));
$("scrubber").addEventListener("input", (e) => seek(Number(e.target.value)));
$("mode-paint").addEventListener("click", () => setEraseMode(false));
$("mode-erase").addEventListener("click", () => setEraseMode(true));
$("confirm-all").addEventListener("click", () => confirmPredictions(true));
$("save-button").addEventListener("click", () => session.save());
$("pred-import").addEventListener("click", () => importPredictions());
$("io-individual").addEventListener("change", updateExportLinks);
$("zoom-in").addEventListener("click", () => lanes.zoom(2));
$("zoom-out").addEventListener("click", () => lanes.zoom(0.5));

function onKey(e) {
  const key = e.key.toLowerCase();
  const ctrl = e.ctrlKey || e.metaKey;
  if (ctrl && key === "s") {
    e.preventDefault();
    session.save();
    return;
  }
  if (keyForField(e)) return;
  if (ctrl && (key === "z" || key === "y")) {
    e.preventDefault();
    const state = key === "y" || e.shiftKey ? history.redo() : history.undo();
    if (state) setLabels(state, { record: false });
    return;
  }
  if (ctrl) return;
  const stepSize = e.shiftKey ? 10 : 1;
  const actions = {
    arrowright: () => seek(lanes.current + stepSize),
    arrowleft: () => seek(lanes.current - stepSize),
    home: () => seek(0),
    end: () => seek(video.n_frames - 1),
    arrowup: () => selectLane(lanes.selected - 1),
    arrowdown: () => selectLane(lanes.selected + 1),
    "+": () => lanes.zoom(1.5),
    "=": () => lanes.zoom(1.5),
    "-": () => lanes.zoom(1 / 1.5),
    0: () => lanes.setWindow(0, lanes.nFrames),
    "[": () => {
      lanes.markStart = lanes.current;
      $("mark-readout").textContent = `start marked at ${lanes.current}`;
      lanes.draw();
    },
    "]": () => markStop(),
    p: () => setEraseMode(false),
    e: () => setEraseMode(!eraseMode),
    c: () => confirmPredictions(e.shiftKey),
    escape: () => {
      lanes.markStart = null;
      $("mark-readout").textContent = "";
      lanes.draw();
    },
  };
  let action = actions[key];
  if (!action && /^[1-9]$/.test(e.key) && !e.altKey) action = () => selectLane(Number(e.key) - 1);
  if (!action || !video) return;
  e.preventDefault();
  action();
}

window.addEventListener("keydown", onKey);
bindHelp();

// ----- start -----

const videos = await api("/api/videos");
$("video-select").replaceChildren(...videos.map((v) => new Option(`${v.name} (${v.n_frames} frames)`, String(v.id))));
setEraseMode(false);
const wanted = Number(queryParam("video")) || videos[0]?.id;
if (wanted) await loadVideo(wanted);
else setStatus("no videos in this project yet", "");
