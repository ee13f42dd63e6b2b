// The left panel: progress per split, filters, sort, and one page of frames.

import { api } from "./api.js";

export const PAGE_SIZE = 50;
const STATUSES = ["green", "blue", "orange", "gray"];

/** Where a frame comes from: "video @ index", or "folder · image name" for an image sequence. */
export function frameName(item) {
  return item.image_name ? `${item.video} · ${item.image_name}` : `${item.video} @${item.frame_idx}`;
}

export class FrameList {
  constructor({ project, onOpen }) {
    this.project = project;
    this.onOpen = onOpen;
    this.el = {
      list: document.getElementById("frame-list"),
      pager: document.getElementById("pager-label"),
      prev: document.getElementById("page-prev"),
      next: document.getElementById("page-next"),
      split: document.getElementById("filter-split"),
      cycle: document.getElementById("filter-cycle"),
      status: document.getElementById("filter-status"),
      sort: document.getElementById("sort"),
      order: document.getElementById("order"),
      progress: document.getElementById("progress"),
    };
    this.offset = 0;
    this.total = 0;
    this.items = [];
    this.current = null;
    this.fillFilters();
    for (const name of ["split", "cycle", "status", "sort", "order"]) {
      this.el[name].addEventListener("change", () => {
        this.offset = 0;
        this.nearby = null;
        if (name === "cycle") this.refreshProgress();
        this.refresh();
      });
    }
    this.el.prev.addEventListener("click", () => this.turnPage(-1));
    this.el.next.addEventListener("click", () => this.turnPage(1));
    this.el.list.addEventListener("click", (e) => {
      const row = e.target.closest("[data-frame-id]");
      if (row) this.onOpen(Number(row.dataset.frameId));
    });
  }

  fillFilters() {
    const option = (value, text) => new Option(text, value);
    this.el.split.append(option("", "all splits"));
    for (const s of [...this.project.splits, "none"]) this.el.split.append(option(s, s));
    this.el.status.append(option("", "any status"));
    for (const s of STATUSES) this.el.status.append(option(s, s));
    const cycles = this.project.cycles;
    for (const c of cycles) this.el.cycle.append(option(String(c.id), `cycle ${c.index}`));
    if (this.project.cycle !== null) this.el.cycle.value = String(this.project.cycle);
    this.el.cycle.hidden = cycles.length < 2;
  }

  query(offset) {
    const q = new URLSearchParams({ offset: String(offset), limit: String(PAGE_SIZE) });
    const values = {
      split: this.el.split.value,
      cycle: this.el.cycle.hidden ? "" : this.el.cycle.value,
      status: this.el.status.value,
      sort: this.el.sort.value,
      order: this.el.order.value,
    };
    for (const [k, v] of Object.entries(values)) if (v) q.set(k, v);
    return `/api/frames?${q}`;
  }

  async refresh() {
    const page = await this.fetchPage(this.offset);
    this.items = page.items;
    this.total = page.total;
    this.offset = page.offset;
    this.render();
  }

  /** The listing page at `offset`; the last one read is kept until the filters change. */
  fetchPage(offset) {
    const key = this.query(offset);
    if (this.nearby?.key !== key) {
      const nearby = { key, page: api(key) };
      nearby.page.catch(() => this.nearby === nearby && (this.nearby = null));
      this.nearby = nearby;
    }
    return this.nearby.page;
  }

  render() {
    const rows = this.items.map((item) => {
      const li = document.createElement("li");
      li.dataset.frameId = item.id;
      li.className = `frame-row status-${item.status}`;
      li.title = `status ${item.status}, ${item.n_instances} instance(s)`;
      const span = (cls, text) => Object.assign(document.createElement("span"), { className: cls, textContent: text });
      li.append(span("dot", ""), span("fid", `#${item.id}`), span("fvideo", frameName(item)), span("fsplit", item.split ?? "—"));
      if (item.id === this.current) li.classList.add("current");
      return li;
    });
    this.el.list.replaceChildren(...rows);
    const last = Math.min(this.offset + this.items.length, this.total);
    this.el.pager.textContent = this.total ? `${this.offset + 1}–${last} of ${this.total}` : "no frames";
    this.el.prev.disabled = this.offset === 0;
    this.el.next.disabled = this.offset + PAGE_SIZE >= this.total;
  }

  async turnPage(step) {
    const offset = this.offset + step * PAGE_SIZE;
    if (offset < 0 || offset >= this.total) return false;
    this.offset = offset;
    await this.refresh();
    return true;
  }

  highlight(id) {
    this.current = id;
    for (const row of this.el.list.querySelectorAll(".current")) row.classList.remove("current");
    const row = this.el.list.querySelector(`[data-frame-id="${id}"]`);
    if (row) {
      row.classList.add("current");
      row.scrollIntoView({ block: "nearest" });
    }
  }

  /** The id `step` rows away from `id` on this page, or null (no page turn). */
  peek(id, step) {
    const i = this.items.findIndex((item) => item.id === id);
    if (i < 0) return this.items[0]?.id ?? null;
    return this.items[i + step]?.id ?? null;
  }

  /** Like `peek`, but reads (without showing) the next page when `id` is at an end. */
  async peekAhead(id, step) {
    const near = this.peek(id, step);
    if (near !== null || !this.items.some((item) => item.id === id)) return near;
    const offset = this.offset + Math.sign(step) * PAGE_SIZE;
    if (offset < 0 || offset >= this.total) return null;
    const { items } = await this.fetchPage(offset);
    return (step > 0 ? items[0] : items.at(-1))?.id ?? null;
  }

  /** The id `step` rows away from `id`, turning the page when needed. */
  async neighbor(id, step) {
    const near = this.peek(id, step);
    if (near !== null) return near;
    if (!(await this.turnPage(step))) return null;
    return step > 0 ? this.items[0]?.id ?? null : this.items.at(-1)?.id ?? null;
  }

  /** Recolor a frame's row after a save. */
  updateRow(frame) {
    const item = this.items.find((it) => it.id === frame.id);
    if (!item) return;
    item.status = frame.status;
    item.n_instances = frame.instances.length;
    const row = this.el.list.querySelector(`[data-frame-id="${frame.id}"]`);
    if (row) {
      row.className = `frame-row status-${frame.status}${frame.id === this.current ? " current" : ""}`;
      row.title = `status ${frame.status}, ${frame.instances.length} instance(s)`;
    }
  }

  async refreshProgress() {
    const cycle = this.el.cycle.value ? `?cycle=${this.el.cycle.value}` : "";
    const { splits } = await api(`/api/progress${cycle}`);
    const head = `<tr><th>split</th>${STATUSES.map((s) => `<th><span class="dot status-${s}"></span></th>`).join("")}<th>total</th></tr>`;
    const body = Object.entries(splits)
      .map(([split, c]) => {
        const done = c.total ? Math.round((100 * c.green) / c.total) : 0;
        const cells = STATUSES.map((s) => `<td>${c[s] ?? 0}</td>`).join("");
        return `<tr data-split="${split}"><td>${split}</td>${cells}<td>${c.total} <span class="pct">${done}%</span></td></tr>`;
      })
      .join("");
    this.el.progress.innerHTML = `<table>${head}${body}</table>`;
  }
}
