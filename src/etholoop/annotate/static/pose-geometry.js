// Image <-> screen transform and hit testing for the pose canvas.
// Screen coordinates are CSS pixels relative to the canvas's top-left corner.

export class View {
  constructor() {
    this.scale = 1;
    this.ox = 0;
    this.oy = 0;
  }

  toScreen(x, y) {
    return [x * this.scale + this.ox, y * this.scale + this.oy];
  }

  toImage(sx, sy) {
    return [(sx - this.ox) / this.scale, (sy - this.oy) / this.scale];
  }

  /** Show the whole `w` x `h` image centered in a `cw` x `ch` canvas. */
  fit(w, h, cw, ch) {
    this.scale = Math.min(cw / w, ch / h) * 0.98;
    this.ox = (cw - w * this.scale) / 2;
    this.oy = (ch - h * this.scale) / 2;
  }

  /** Zoom by `factor` keeping the image point under (sx, sy) in place. */
  zoomAt(sx, sy, factor) {
    const scale = Math.min(40, Math.max(0.05, this.scale * factor));
    const [x, y] = this.toImage(sx, sy);
    this.scale = scale;
    this.ox = sx - x * scale;
    this.oy = sy - y * scale;
  }

  pan(dx, dy) {
    this.ox += dx;
    this.oy += dy;
  }
}

export const HANDLE_PX = 7; // half-size of a box corner handle
export const KEYPOINT_PX = 8; // click radius of a keypoint

/** Corner names in box order [x1, y1, x2, y2]: which coordinates each corner moves. */
export const CORNERS = {
  nw: [0, 1],
  ne: [2, 1],
  sw: [0, 3],
  se: [2, 3],
};

/**
 * The box around an instance's labeled keypoints with a margin of a tenth of their
 * larger extent (3 px at least), in image coordinates; null without keypoints.
 * Imported labels (DeepLabCut, SLEAP) have no box: this one is only shown and hit,
 * never stored.
 */
export function derivedBox(inst) {
  const pts = inst.keypoints.filter((p, k) => p && inst.visibility[k] > 0);
  if (!pts.length) return null;
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x1, y1, x2, y2] = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  const m = Math.max(3, 0.1 * Math.max(x2 - x1, y2 - y1));
  return [x1 - m, y1 - m, x2 + m, y2 + m];
}

/** The instance's stored box, else the one derived from its keypoints (or null). */
export function displayBox(inst) {
  return inst.box ?? derivedBox(inst);
}

function cornerPoints(box) {
  const [x1, y1, x2, y2] = box;
  return { nw: [x1, y1], ne: [x2, y1], sw: [x1, y2], se: [x2, y2] };
}

/**
 * What lies under screen point (sx, sy): a keypoint, a corner handle of the selected
 * box, or a box body (a stored box, else the one derived from the keypoints, whose
 * corners store it when dragged). The selected instance wins ties; keypoints win
 * over boxes.
 * Returns {kind: "keypoint"|"corner"|"body", index, k?, corner?} or null.
 */
export function hitTest(instances, selected, view, sx, sy) {
  const order = instances.map((_, i) => i);
  if (selected >= 0) order.sort((a, b) => (a === selected ? -1 : b === selected ? 1 : 0));
  let best = null;
  for (const i of order) {
    instances[i].keypoints.forEach((p, k) => {
      if (!p) return;
      const [px, py] = view.toScreen(p[0], p[1]);
      const d = Math.hypot(px - sx, py - sy);
      if (d <= KEYPOINT_PX && (!best || d < best.d - 0.5)) best = { kind: "keypoint", index: i, k, d };
    });
  }
  if (best) return best;
  const selectedBox = selected >= 0 && instances[selected] ? displayBox(instances[selected]) : null;
  if (selectedBox) {
    for (const [corner, [x, y]] of Object.entries(cornerPoints(selectedBox))) {
      const [px, py] = view.toScreen(x, y);
      if (Math.abs(px - sx) <= HANDLE_PX && Math.abs(py - sy) <= HANDLE_PX) {
        return { kind: "corner", index: selected, corner };
      }
    }
  }
  const [x, y] = view.toImage(sx, sy);
  let smallest = null;
  for (const i of order) {
    const box = displayBox(instances[i]);
    if (!box || x < box[0] || x > box[2] || y < box[1] || y > box[3]) continue;
    const area = (box[2] - box[0]) * (box[3] - box[1]);
    if (i === selected) return { kind: "body", index: i };
    if (!smallest || area < smallest.area) smallest = { kind: "body", index: i, area };
  }
  return smallest;
}

/** [x1, y1, x2, y2] with x1 <= x2, y1 <= y2, clamped to the image. */
export function normalizeBox(box, w, h) {
  const clamp = (v, hi) => Math.min(hi, Math.max(0, v));
  const x1 = clamp(Math.min(box[0], box[2]), w);
  const x2 = clamp(Math.max(box[0], box[2]), w);
  const y1 = clamp(Math.min(box[1], box[3]), h);
  const y2 = clamp(Math.max(box[1], box[3]), h);
  return [x1, y1, x2, y2].map(round2);
}

export function round2(v) {
  return Math.round(v * 100) / 100;
}
