// The lanes of the behavior timeline: one canvas per individual x behavior, a ruler
// on top, a zoomable window of frames, and painting by mouse drag.

export const BEHAVIOR_COLORS = ["#4cc9f0", "#f72585", "#ffd166", "#06d6a0", "#ff924c", "#b5179e", "#8ac926", "#c77dff"];

const TICK_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

export class TimelineLanes {
  /** handlers: onSeek(frame), onPaint(lane, start, stop, erase), onSelectLane(index) */
  constructor(root, handlers) {
    this.root = root;
    this.handlers = handlers;
    this.lanes = []; // {individual, behavior, color, canvas, row}
    this.labels = [];
    this.nFrames = 1;
    this.start = 0; // first frame shown (may be fractional)
    this.span = 1; // frames shown
    this.current = 0;
    this.selected = 0;
    this.markStart = null;
    this.drag = null;
    this.hatches = new Map();
    new ResizeObserver(() => this.draw()).observe(root);
    root.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    root.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  /** Rebuild the lanes for a video. */
  setup(nFrames, individuals, behaviors) {
    this.nFrames = Math.max(1, nFrames);
    this.start = 0;
    this.span = this.nFrames;
    this.current = 0;
    this.markStart = null;
    this.lanes = [];
    const rulerRow = document.createElement("div");
    rulerRow.className = "lane-row ruler-row";
    rulerRow.append(document.createElement("span"));
    this.ruler = document.createElement("canvas");
    this.ruler.className = "ruler";
    rulerRow.append(this.ruler);
    this.bindDrag(this.ruler, null);
    const rows = [rulerRow];
    for (let ind = 0; ind < individuals; ind++) {
      behaviors.forEach((behavior, b) => {
        const index = this.lanes.length;
        const row = document.createElement("div");
        row.className = "lane-row";
        const name = document.createElement("div");
        name.className = "lane-name";
        const color = BEHAVIOR_COLORS[b % BEHAVIOR_COLORS.length];
        const key = index < 9 ? `${index + 1}` : "";
        name.innerHTML = `<span class="key">${key}</span><span class="swatch" style="background:${color}"></span>`;
        name.append(`animal ${ind} · ${behavior}`);
        name.addEventListener("click", () => this.handlers.onSelectLane(index));
        const canvas = document.createElement("canvas");
        canvas.className = "lane";
        canvas.dataset.individual = ind;
        canvas.dataset.behavior = behavior;
        canvas.dataset.lane = index;
        row.dataset.individual = ind;
        row.dataset.behavior = behavior;
        row.append(name, canvas);
        rows.push(row);
        this.bindDrag(canvas, index);
        this.lanes.push({ individual: ind, behavior, color, canvas, row });
      });
    }
    this.root.replaceChildren(...rows);
    this.select(0);
  }

  select(index) {
    if (!this.lanes.length) return;
    this.selected = Math.max(0, Math.min(this.lanes.length - 1, index));
    this.lanes.forEach((lane, i) => lane.row.classList.toggle("selected", i === this.selected));
    this.draw();
  }

  // ----- geometry -----

  width(canvas) {
    return canvas.clientWidth || 1;
  }

  frameToX(frame, canvas) {
    return ((frame - this.start) / this.span) * this.width(canvas);
  }

  xToFrame(x, canvas) {
    const f = Math.floor(this.start + (x / this.width(canvas)) * this.span);
    return Math.max(0, Math.min(this.nFrames - 1, f));
  }

  setWindow(start, span) {
    this.span = Math.max(Math.min(this.nFrames, 20), Math.min(this.nFrames, span));
    this.start = Math.max(0, Math.min(this.nFrames - this.span, start));
    this.draw();
  }

  /** Zoom by `factor` keeping frame `anchor` at the same place. */
  zoom(factor, anchor = this.current + 0.5) {
    const t = (anchor - this.start) / this.span;
    const span = this.span / factor;
    this.setWindow(anchor - t * Math.max(Math.min(this.nFrames, 20), Math.min(this.nFrames, span)), span);
  }

  /** Scroll so frame `f` is inside the window. */
  reveal(f) {
    if (f < this.start) this.setWindow(f - this.span * 0.1, this.span);
    else if (f + 1 > this.start + this.span) this.setWindow(f + 1 - this.span * 0.9, this.span);
  }

  wheel(e) {
    const canvas = e.target.closest("canvas");
    if (!canvas) return;
    e.preventDefault();
    const rect = canvas.getBoundingClientRect();
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      const d = e.shiftKey ? e.deltaY : e.deltaX;
      this.setWindow(this.start + (d / rect.width) * this.span, this.span);
      return;
    }
    const anchor = this.start + ((e.clientX - rect.left) / rect.width) * this.span;
    this.zoom(Math.exp(-e.deltaY * 0.002), anchor);
  }

  // ----- mouse painting -----

  bindDrag(canvas, laneIndex) {
    canvas.addEventListener("pointerdown", (e) => {
      if (e.button !== 0 && e.button !== 2) return;
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      const f = this.xToFrame(e.offsetX, canvas);
      const erase = laneIndex !== null && (e.button === 2 || e.altKey || this.eraseMode);
      this.drag = { laneIndex, canvas, from: f, to: f, erase };
      if (laneIndex !== null) this.handlers.onSelectLane(laneIndex);
      this.handlers.onSeek(f);
      this.draw();
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!this.drag || this.drag.canvas !== canvas) return;
      const f = this.xToFrame(e.offsetX, canvas);
      if (f === this.drag.to) return;
      this.drag.to = f;
      this.handlers.onSeek(f);
      this.draw();
    });
    const finish = (e) => {
      const drag = this.drag;
      if (!drag || drag.canvas !== canvas) return;
      this.drag = null;
      if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
      if (drag.laneIndex !== null && e.type === "pointerup") {
        const lo = Math.min(drag.from, drag.to);
        const hi = Math.max(drag.from, drag.to);
        this.handlers.onPaint(this.lanes[drag.laneIndex], lo, hi + 1, drag.erase);
      }
      this.draw();
    };
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
  }

  // ----- drawing -----

  hatch(ctx, color) {
    const key = color;
    if (!this.hatches.has(key)) {
      const tile = document.createElement("canvas");
      tile.width = tile.height = 8;
      const t = tile.getContext("2d");
      t.fillStyle = color + "40";
      t.fillRect(0, 0, 8, 8);
      t.strokeStyle = color + "d0";
      t.lineWidth = 2;
      t.beginPath();
      t.moveTo(-2, 10);
      t.lineTo(10, -2);
      t.moveTo(6, 10);
      t.lineTo(10, 6);
      t.moveTo(-2, 2);
      t.lineTo(2, -2);
      t.stroke();
      this.hatches.set(key, tile);
    }
    return ctx.createPattern(this.hatches.get(key), "repeat");
  }

  prepare(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 1;
    const h = canvas.clientHeight || 1;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return [ctx, w, h];
  }

  draw() {
    if (!this.ruler) return;
    this.drawRuler();
    this.lanes.forEach((lane, i) => this.drawLane(lane, i));
  }

  drawRuler() {
    const canvas = this.ruler;
    const [ctx, w, h] = this.prepare(canvas);
    const pxPerFrame = w / this.span;
    const step = TICK_STEPS.find((s) => s * pxPerFrame >= 70) ?? TICK_STEPS.at(-1);
    ctx.fillStyle = "#9aa1ad";
    ctx.strokeStyle = "#5a606b";
    ctx.font = "11px ui-monospace, monospace";
    for (let f = Math.ceil(this.start / step) * step; f < this.start + this.span; f += step) {
      const x = Math.round(this.frameToX(f, canvas)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, h - 8);
      ctx.lineTo(x, h);
      ctx.stroke();
      ctx.fillText(String(f), x + 3, h - 9);
    }
    this.drawCursor(ctx, canvas, h, "#ffffff");
  }

  drawLane(lane, index) {
    const [ctx, , h] = this.prepare(lane.canvas);
    const x = (f) => this.frameToX(f, lane.canvas);
    const mine = this.labels.filter((l) => l.individual === lane.individual && l.behavior === lane.behavior);
    for (const l of mine.filter((m) => m.source === "predicted")) {
      ctx.fillStyle = this.hatch(ctx, lane.color);
      ctx.fillRect(x(l.start), 3, Math.max(1, x(l.stop) - x(l.start)), h - 6);
    }
    for (const l of mine.filter((m) => m.source === "manual")) {
      ctx.fillStyle = lane.color;
      ctx.fillRect(x(l.start), 2, Math.max(1, x(l.stop) - x(l.start)), h - 4);
    }
    const drag = this.drag;
    if (drag && drag.laneIndex === index) {
      const lo = Math.min(drag.from, drag.to);
      const hi = Math.max(drag.from, drag.to) + 1;
      ctx.fillStyle = drag.erase ? "rgba(231,76,60,0.55)" : "rgba(255,255,255,0.45)";
      ctx.fillRect(x(lo), 0, Math.max(1, x(hi) - x(lo)), h);
    }
    if (this.markStart !== null && index === this.selected) {
      ctx.fillStyle = "#ffca3a";
      ctx.fillRect(x(this.markStart) - 1, 0, 3, h);
    }
    this.drawCursor(ctx, lane.canvas, h, "rgba(255,255,255,0.9)");
  }

  drawCursor(ctx, canvas, h, color) {
    const x0 = this.frameToX(this.current, canvas);
    const x1 = this.frameToX(this.current + 1, canvas);
    if (x1 - x0 >= 3) {
      ctx.fillStyle = "rgba(255,255,255,0.18)";
      ctx.fillRect(x0, 0, x1 - x0, h);
    }
    ctx.fillStyle = color;
    ctx.fillRect(Math.round((x0 + x1) / 2) - 1, 0, 2, h);
  }
}
