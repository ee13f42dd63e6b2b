// Pose labeling page: wires the frame list, the canvas editor, saving and keys.

import { api, queryParam, setQueryParams } from "./api.js";
import { EditSession, setStatus } from "./edit-session.js";
import { FrameCache } from "./frame-cache.js";
import { FrameList, frameName } from "./frame-list.js";
import { InstancePanel } from "./instance-panel.js";
import { KEYPOINT_COLORS } from "./pose-draw.js";
import { PoseEditor } from "./pose-editor.js";
import { bindHelp, keyForField } from "./ui.js";

const $ = (id) => document.getElementById(id);
const author = queryParam("author");

const project = await api("/api/project");
document.title = `${project.name} · pose labeling`;
$("project-name").textContent = project.name;

const editor = new PoseEditor($("canvas"), {
  keypointNames: project.keypoints,
  edges: project.edges,
  onChange: () => updateUi(),
});
const panel = new InstancePanel(editor);
const legend = keypointLegend();
const list = new FrameList({ project, onOpen: (id) => navigate(() => id) });
const cache = new FrameCache();

let frame = null; // the Frame as last loaded or saved
let lastDrawnFrameId = null;
const session = new EditSession({
  field: "instances",
  url: (id) => `/api/frames/${id}/instances`,
  items: () => editor.instancesToSave(),
  adopt: adoptSaved,
  onSaved: showSaved,
  onReload: () => navigate(() => frame?.id, { fresh: true, discard: true }),
  extra: { author },
});
let chain = Promise.resolve(); // frame changes run one after another

window.etholoop = {
  project,
  editor,
  get frameId() {
    return frame?.id ?? null;
  },
  get instances() {
    return structuredClone(editor.instances);
  },
  get mode() {
    return editor.mode === 0 ? "box" : `keypoint:${project.keypoints[editor.mode - 1]}`;
  },
  get selected() {
    return editor.selected;
  },
  get dirty() {
    return session.dirty;
  },
  get lastDrawnFrameId() {
    return lastDrawnFrameId;
  },
  /** Page (client) coordinates of image point (x, y), for tests. */
  imageToClient(x, y) {
    const rect = $("canvas").getBoundingClientRect();
    const [sx, sy] = editor.view.toScreen(x, y);
    return { x: rect.left + sx, y: rect.top + sy };
  },
  save: () => session.save(),
};

// ----- keypoint legend -----

/** The keypoint names and colors over the canvas, in skeleton order; a click places that one. */
function keypointLegend() {
  const items = project.keypoints.map((name, k) => {
    const li = document.createElement("li");
    li.dataset.k = k;
    li.title = `place ${name}`;
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = KEYPOINT_COLORS[k % KEYPOINT_COLORS.length];
    li.append(swatch, name);
    return li;
  });
  $("keypoint-legend").replaceChildren(...items);
  $("keypoint-legend").addEventListener("click", (e) => {
    const item = e.target.closest("[data-k]");
    if (item) editor.setMode(Number(item.dataset.k) + 1);
  });
  return items;
}

// ----- status line -----

function updateUi() {
  const k = editor.mode - 1;
  $("mode").textContent = editor.mode === 0 ? "box" : `keypoint ${k + 1}/${project.keypoints.length}: ${project.keypoints[k]}`;
  $("mode").className = editor.mode === 0 ? "mode-box" : "mode-kp";
  legend.forEach((li, i) => li.classList.toggle("placing", i === k));
  panel.render();
  session.showDirty();
}

// ----- loading and saving -----

function show(loaded, image) {
  frame = loaded;
  editor.load(loaded, image);
  session.load(loaded.id, loaded);
  lastDrawnFrameId = loaded.id;
  document.body.dataset.drawnFrame = String(loaded.id);
  performance.mark(`frame-drawn-${loaded.id}`);
  $("frame-title").textContent = `frame #${loaded.id} · ${frameName(loaded)} · ${loaded.split ?? "no split"}`;
  $("frame-title").className = `status-text-${loaded.status}`;
  list.highlight(loaded.id);
  setQueryParams({ frame: loaded.id });
  updateUi();
  // two ahead in reading order, one back
  for (const step of [1, 2, -1]) list.peekAhead(loaded.id, step).then((id) => cache.prefetch(id), () => {});
}

/** Open frame `id`, saving the current one first; stays put if that save fails. */
async function open(id, { fresh = false, discard = false } = {}) {
  if (id === null || id === undefined) return false;
  if (!discard && !(await session.save())) return false;
  if (frame && id === frame.id && !fresh && !discard) return true;
  try {
    const { frame: loaded, image } = await cache.get(id, { fresh });
    show(loaded, image);
    return true;
  } catch (error) {
    setStatus(`could not load frame ${id}: ${error.message}`, "error");
    return false;
  }
}

/** Queue a frame change; `target` picks the frame id when its turn comes. */
function navigate(target, options) {
  chain = chain.then(async () => open(await target(), options)).catch((error) => setStatus(error.message, "error"));
  return chain;
}

/** The frame as the server saved it: its row in the list, the cache, progress. */
function showSaved(saved) {
  frame = saved;
  cache.put(saved);
  list.updateRow(saved);
  $("frame-title").className = `status-text-${saved.status}`;
  list.refreshProgress().catch(() => {});
}

/** Take the server's ids and versions into the editor without moving anything. */
function adoptSaved(saved) {
  const current = editor.instancesToSave();
  const byId = new Map(saved.instances.map((i) => [i.id, i]));
  const added = saved.instances.filter((i) => !current.some((c) => c.id === i.id));
  const adopted = current.map((inst) => (inst.id !== null && byId.has(inst.id) ? byId.get(inst.id) : added.shift()));
  if (adopted.some((i) => !i) || added.length) return; // unexpected answer: keep ours
  const selected = editor.instances[editor.selected];
  editor.instances = structuredClone(adopted);
  editor.selected = selected ? current.indexOf(selected) : -1;
  editor.history.replaceCurrent(editor.snapshot());
  editor.render();
}

$("save-button").addEventListener("click", () => session.save());
$("confirm-one").addEventListener("click", () => editor.confirm(false));
$("confirm-all").addEventListener("click", () => editor.confirm(true));
$("delete-selected").addEventListener("click", () => editor.deleteSelection());
$("fit-view").addEventListener("click", () => editor.fitView());

// ----- keyboard -----

const step = (n) => navigate(() => (frame ? list.neighbor(frame.id, n) : list.peek(null, 0)));

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
    if (key === "y" || e.shiftKey) editor.redo();
    else editor.undo();
    return;
  }
  if (ctrl || e.altKey) return;
  const actions = {
    m: () => editor.cycleMode(1),
    tab: () => editor.cycleMode(e.shiftKey ? -1 : 1),
    v: () => editor.toggleVisibility(),
    c: () => editor.confirm(e.shiftKey),
    delete: () => editor.deleteSelection(),
    backspace: () => editor.deleteSelection(),
    d: () => step(1),
    arrowright: () => step(1),
    a: () => step(-1),
    arrowleft: () => step(-1),
    f: () => editor.fitView(),
    escape: () => ($("help").hidden ? editor.select(-1) : ($("help").hidden = true)),
    " ": () => (editor.spaceDown = true),
  };
  const action = actions[key];
  if (!action) return;
  e.preventDefault();
  action();
}

window.addEventListener("keydown", onKey);
window.addEventListener("keyup", (e) => {
  if (e.key === " ") editor.spaceDown = false;
});
bindHelp();

// ----- start -----

await Promise.all([list.refresh(), list.refreshProgress()]);
const first = Number(queryParam("frame")) || list.peek(null, 0);
if (first) await navigate(() => first);
else setStatus("no frames in this project yet", "");
