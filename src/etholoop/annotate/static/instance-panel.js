// The right panel: the frame's instances, and the selected one's details
// (source, track id, keypoints with their visibility).

import { KEYPOINT_COLORS, instanceColor } from "./pose-draw.js";

const VIS_TEXT = ["—", "hidden", "visible"];

export class InstancePanel {
  constructor(editor) {
    this.editor = editor;
    this.el = {
      list: document.getElementById("instance-list"),
      detail: document.getElementById("instance-detail"),
      none: document.getElementById("no-selection"),
      source: document.getElementById("sel-source"),
      track: document.getElementById("track-id"),
      keypoints: document.getElementById("keypoint-table"),
      confirm: document.getElementById("confirm-one"),
    };
    this.el.track.addEventListener("change", () => this.editor.setTrackId(this.el.track.value));
    this.el.list.addEventListener("click", (e) => {
      const row = e.target.closest("[data-index]");
      if (row) this.editor.select(Number(row.dataset.index));
    });
    this.el.keypoints.addEventListener("click", (e) => {
      const row = e.target.closest("[data-k]");
      if (row) this.editor.setMode(Number(row.dataset.k) + 1);
    });
  }

  render() {
    const { instances, selected, selectedKp, keypointNames, mode } = this.editor;
    this.el.list.replaceChildren(
      ...instances.map((inst, i) => {
        const li = document.createElement("li");
        li.dataset.index = i;
        li.className = i === selected ? "selected" : "";
        const n = inst.keypoints.filter((p) => p !== null).length;
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = instanceColor(inst, i);
        const track = inst.track_id !== null && inst.track_id !== undefined ? `, track ${inst.track_id}` : "";
        li.append(swatch, `#${i + 1} ${inst.source}${inst.box ? ", box" : ""}, ${n}/${inst.keypoints.length} kp${track}`);
        return li;
      }),
    );
    const inst = instances[selected];
    this.el.detail.hidden = !inst;
    this.el.none.hidden = Boolean(inst);
    if (!inst) return;
    this.el.source.textContent = inst.source;
    this.el.source.className = `badge ${inst.source}`;
    this.el.confirm.disabled = inst.source !== "predicted";
    if (document.activeElement !== this.el.track) this.el.track.value = inst.track_id ?? "";
    this.el.keypoints.replaceChildren(
      ...keypointNames.map((name, k) => {
        const tr = document.createElement("tr");
        tr.dataset.k = k;
        if (mode === k + 1) tr.classList.add("placing");
        if (selectedKp === k) tr.classList.add("current");
        const dot = `<span class="swatch" style="background:${KEYPOINT_COLORS[k % KEYPOINT_COLORS.length]}"></span>`;
        const p = inst.keypoints[k];
        const where = p ? `${p[0].toFixed(1)}, ${p[1].toFixed(1)}` : "not placed";
        tr.innerHTML = `<td>${dot}${k + 1}</td><td class="kname"></td><td>${where}</td><td>${VIS_TEXT[inst.visibility[k]] ?? ""}</td>`;
        tr.querySelector(".kname").textContent = name;
        return tr;
      }),
    );
  }
}
