// The pose canvas editor: holds one frame's instances, turns mouse input into
// edits (draw/move/resize boxes, place/drag keypoints), and keeps undo history.

import { drawScene } from "./pose-draw.js";
import { CORNERS, View, derivedBox, hitTest, normalizeBox, round2 } from "./pose-geometry.js";
import { History } from "./undo.js";

const MIN_BOX_PX = 4; // smaller drags are clicks, not boxes

export function emptyInstance(nKeypoints) {
  return {
    id: null,
    version: null,
    source: "manual",
    box: null,
    box_score: null,
    keypoints: Array(nKeypoints).fill(null),
    visibility: Array(nKeypoints).fill(0),
    keypoint_scores: null,
    track_id: null,
    author: null,
  };
}

export class PoseEditor {
  constructor(canvas, { keypointNames, edges, onChange }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.keypointNames = keypointNames;
    this.edges = edges;
    this.onChange = onChange ?? (() => {});
    this.view = new View();
    this.history = new History();
    this.image = null;
    this.size = [1, 1];
    this.instances = [];
    this.selected = -1;
    this.selectedKp = null;
    this.hovered = null; // the keypoint under the mouse, {index, k}
    this.drawnLabels = []; // the keypoint names on the canvas, [{text, x, y}]
    this.mode = 0; // 0 = box, k + 1 = keypoint k
    this.drag = null;
    this.preview = null;
    this.spaceDown = false;
    this.viewTouched = false;
    this.cssSize = [canvas.clientWidth, canvas.clientHeight];
    new ResizeObserver(() => this.resize()).observe(canvas);
    canvas.addEventListener("pointerdown", (e) => this.pointerDown(e));
    canvas.addEventListener("pointermove", (e) => this.pointerMove(e));
    canvas.addEventListener("pointerup", (e) => this.pointerUp(e));
    canvas.addEventListener("pointerleave", () => this.setHovered(null));
    canvas.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    canvas.addEventListener("contextmenu", (e) => e.preventDefault());
    this.resize();
  }

  get nKeypoints() {
    return this.keypointNames.length;
  }

  /** Show a new frame; the view is kept when the image size is unchanged and was zoomed. */
  load(frame, image) {
    const sameSize = this.size[0] === frame.width && this.size[1] === frame.height;
    this.image = image;
    this.size = [frame.width, frame.height];
    this.instances = structuredClone(frame.instances);
    this.selected = -1;
    this.selectedKp = null;
    this.hovered = null;
    this.mode = 0;
    this.drag = null;
    this.preview = null;
    this.history.reset(this.snapshot());
    if (!sameSize || !this.viewTouched) this.fitView();
    this.render();
  }

  fitView() {
    this.viewTouched = false;
    this.view.fit(this.size[0], this.size[1], this.cssSize[0], this.cssSize[1]);
    this.render();
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, this.canvas.clientWidth);
    const h = Math.max(1, this.canvas.clientHeight);
    this.cssSize = [w, h];
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (!this.viewTouched) this.view.fit(this.size[0], this.size[1], w, h);
    this.render();
  }

  render() {
    this.drawnLabels = drawScene(this.ctx, this.cssSize[0], this.cssSize[1], {
      image: this.image,
      view: this.view,
      instances: this.instances,
      selected: this.selected,
      selectedKp: this.selectedKp,
      hovered: this.hovered,
      edges: this.edges,
      keypointNames: this.keypointNames,
      preview: this.preview,
    });
  }

  // ----- history -----

  snapshot() {
    return { instances: this.instances, selected: this.selected, selectedKp: this.selectedKp };
  }

  restore(state) {
    this.instances = state.instances;
    this.selected = state.selected < this.instances.length ? state.selected : -1;
    this.selectedKp = state.selectedKp;
    this.render();
    this.onChange();
  }

  /** Record the current state as one undo step. */
  commit() {
    this.history.push(this.snapshot());
    this.render();
    this.onChange();
  }

  undo() {
    const state = this.history.undo();
    if (state) this.restore(state);
  }

  redo() {
    const state = this.history.redo();
    if (state) this.restore(state);
  }

  // ----- commands -----

  setMode(mode) {
    this.mode = ((mode % (this.nKeypoints + 1)) + this.nKeypoints + 1) % (this.nKeypoints + 1);
    this.onChange();
  }

  cycleMode(step = 1) {
    this.setMode(this.mode + step);
  }

  select(index, kp = null) {
    this.selected = index;
    this.selectedKp = kp;
    this.render();
    this.onChange();
  }

  /** Toggle visibility 2 <-> 1 of the selected keypoint (else the last labeled one). */
  toggleVisibility() {
    const inst = this.instances[this.selected];
    if (!inst) return false;
    let k = this.selectedKp;
    if (k === null || !inst.keypoints[k]) {
      k = inst.keypoints.findLastIndex((p) => p !== null);
      if (k < 0) return false;
    }
    inst.visibility[k] = inst.visibility[k] === 2 ? 1 : 2;
    this.selectedKp = k;
    this.commit();
    return true;
  }

  /** Delete the selected keypoint if one is selected, else the selected instance. */
  deleteSelection() {
    const inst = this.instances[this.selected];
    if (!inst) return false;
    const k = this.selectedKp;
    if (k !== null && inst.keypoints[k]) {
      inst.keypoints[k] = null;
      inst.visibility[k] = 0;
      if (inst.keypoint_scores) inst.keypoint_scores[k] = null;
      this.selectedKp = null;
      if (!inst.box && inst.keypoints.every((p) => p === null)) {
        this.instances.splice(this.selected, 1);
        this.selected = -1;
      }
    } else {
      this.instances.splice(this.selected, 1);
      this.selected = -1;
      this.selectedKp = null;
    }
    this.commit();
    return true;
  }

  /** Confirm the selected prediction (or all): its source becomes "manual". */
  confirm(all = false) {
    const targets = all ? this.instances : [this.instances[this.selected]].filter(Boolean);
    const predicted = targets.filter((inst) => inst.source === "predicted");
    if (!predicted.length) return 0;
    for (const inst of predicted) inst.source = "manual";
    this.commit();
    return predicted.length;
  }

  setTrackId(value) {
    const inst = this.instances[this.selected];
    if (!inst) return;
    const track = value === "" || value === null ? null : Math.trunc(Number(value));
    if (inst.track_id === track || Number.isNaN(track)) return;
    inst.track_id = track;
    this.commit();
  }

  /** The instances to save: ones with neither box nor keypoints are dropped. */
  instancesToSave() {
    return this.instances.filter((inst) => inst.box || inst.keypoints.some((p) => p !== null));
  }

  // ----- mouse -----

  localPoint(e) {
    const rect = this.canvas.getBoundingClientRect();
    return [e.clientX - rect.left, e.clientY - rect.top];
  }

  wheel(e) {
    e.preventDefault();
    const [sx, sy] = this.localPoint(e);
    this.view.zoomAt(sx, sy, Math.exp(-e.deltaY * 0.0015));
    this.viewTouched = true;
    this.render();
  }

  pointerDown(e) {
    const [sx, sy] = this.localPoint(e);
    this.canvas.focus();
    if (e.button === 1 || (e.button === 0 && this.spaceDown)) {
      e.preventDefault();
      this.drag = { type: "pan", last: [sx, sy] };
      this.canvas.setPointerCapture(e.pointerId);
      return;
    }
    if (e.button !== 0 || !this.image) return;
    this.canvas.setPointerCapture(e.pointerId);
    const [x, y] = this.view.toImage(sx, sy);
    const hit = hitTest(this.instances, this.selected, this.view, sx, sy);
    if (hit?.kind === "keypoint") {
      this.selected = hit.index;
      this.selectedKp = hit.k;
      this.drag = { type: "keypoint", index: hit.index, k: hit.k, changed: false };
    } else if (hit?.kind === "corner") {
      this.drag = { type: "corner", index: hit.index, corner: hit.corner, changed: false };
    } else if (this.mode === 0) {
      if (hit?.kind === "body") {
        this.selected = hit.index;
        this.selectedKp = null;
        // only a stored box moves; a derived one (no box stored) is just selected
        const box = this.instances[hit.index].box?.slice();
        this.drag = box ? { type: "move", index: hit.index, start: [x, y], box, changed: false } : { type: "select", changed: false };
      } else {
        this.selected = -1;
        this.selectedKp = null;
        this.drag = { type: "draw", start: [x, y], screenStart: [sx, sy] };
      }
    } else {
      this.placeKeypoint(this.mode - 1, x, y, hit);
    }
    this.render();
    this.onChange();
  }

  /** Place keypoint k on the selected instance (or the box under the click, or a new one). */
  placeKeypoint(k, x, y, hit) {
    let index = this.selected;
    if (index < 0 && hit?.kind === "body") index = hit.index;
    if (index < 0) {
      this.instances.push(emptyInstance(this.nKeypoints));
      index = this.instances.length - 1;
    }
    const inst = this.instances[index];
    const [w, h] = this.size;
    inst.keypoints[k] = [round2(Math.min(w, Math.max(0, x))), round2(Math.min(h, Math.max(0, y)))];
    if (inst.visibility[k] === 0) inst.visibility[k] = 2;
    this.selected = index;
    this.selectedKp = k;
    this.drag = { type: "keypoint", index, k, changed: true };
    this.mode = k + 1 < this.nKeypoints ? k + 2 : 0; // advance in skeleton order
  }

  pointerMove(e) {
    const [sx, sy] = this.localPoint(e);
    const drag = this.drag;
    if (!drag) return this.hover(sx, sy);
    const [x, y] = this.view.toImage(sx, sy);
    const [w, h] = this.size;
    const clampX = (v) => round2(Math.min(w, Math.max(0, v)));
    const clampY = (v) => round2(Math.min(h, Math.max(0, v)));
    if (drag.type === "pan") {
      this.view.pan(sx - drag.last[0], sy - drag.last[1]);
      drag.last = [sx, sy];
      this.viewTouched = true;
    } else if (drag.type === "keypoint") {
      this.instances[drag.index].keypoints[drag.k] = [clampX(x), clampY(y)];
      drag.changed = true;
    } else if (drag.type === "corner") {
      const inst = this.instances[drag.index];
      // dragging a corner of a derived box (none stored) is drawing one
      if (!inst.box) inst.box = normalizeBox(derivedBox(inst), w, h);
      const box = inst.box;
      const [ix, iy] = CORNERS[drag.corner];
      box[ix] = clampX(x);
      box[iy] = clampY(y);
      drag.changed = true;
    } else if (drag.type === "move") {
      const [bx1, by1, bx2, by2] = drag.box;
      const dx = Math.min(w - bx2, Math.max(-bx1, x - drag.start[0]));
      const dy = Math.min(h - by2, Math.max(-by1, y - drag.start[1]));
      this.instances[drag.index].box = [bx1 + dx, by1 + dy, bx2 + dx, by2 + dy].map(round2);
      drag.changed = dx !== 0 || dy !== 0;
    } else if (drag.type === "draw") {
      this.preview = [drag.start[0], drag.start[1], x, y];
    }
    this.render();
  }

  pointerUp(e) {
    const drag = this.drag;
    this.drag = null;
    if (!drag) return;
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    if (drag.type === "draw") {
      this.preview = null;
      const [sx, sy] = this.localPoint(e);
      const big = Math.abs(sx - drag.screenStart[0]) >= MIN_BOX_PX && Math.abs(sy - drag.screenStart[1]) >= MIN_BOX_PX;
      if (big) {
        const [x, y] = this.view.toImage(sx, sy);
        const inst = emptyInstance(this.nKeypoints);
        inst.box = normalizeBox([drag.start[0], drag.start[1], x, y], this.size[0], this.size[1]);
        this.instances.push(inst);
        this.selected = this.instances.length - 1;
        this.selectedKp = null;
        this.commit();
        return;
      }
      this.render();
      this.onChange();
      return;
    }
    if (drag.type === "corner" && drag.changed) {
      const inst = this.instances[drag.index];
      inst.box = normalizeBox(inst.box, this.size[0], this.size[1]);
    }
    if (drag.changed) this.commit();
    else this.render();
  }

  hover(sx, sy) {
    if (this.spaceDown) return (this.canvas.style.cursor = "grab");
    const hit = hitTest(this.instances, this.selected, this.view, sx, sy);
    let cursor = "crosshair";
    if (hit?.kind === "keypoint") cursor = "move";
    else if (hit?.kind === "corner") cursor = hit.corner === "nw" || hit.corner === "se" ? "nwse-resize" : "nesw-resize";
    else if (hit?.kind === "body" && this.mode === 0 && this.instances[hit.index].box) cursor = "move";
    this.canvas.style.cursor = cursor;
    this.setHovered(hit?.kind === "keypoint" ? { index: hit.index, k: hit.k } : null);
  }

  /** Show the name of keypoint {index, k} under the mouse (null: none). */
  setHovered(hovered) {
    if (hovered?.index === this.hovered?.index && hovered?.k === this.hovered?.k) return;
    this.hovered = hovered;
    this.render();
  }
}
