// Paints one frame: the image, then every instance's box, skeleton and keypoints.

import { CORNERS, HANDLE_PX } from "./pose-geometry.js";

const INSTANCE_COLORS = ["#3ddc97", "#4cc9f0", "#ffd166", "#f4978e", "#b8f2e6", "#cdb4db"];
const PREDICTED_COLOR = "#ff4fd8";
export const KEYPOINT_COLORS = ["#ff595e", "#ffca3a", "#8ac926", "#1982c4", "#6a4c93", "#ff924c", "#52d1dc", "#f15bb5", "#fee440"];

export function instanceColor(inst, i) {
  if (inst.source === "predicted") return PREDICTED_COLOR;
  const n = inst.track_id ?? i;
  return INSTANCE_COLORS[((n % INSTANCE_COLORS.length) + INSTANCE_COLORS.length) % INSTANCE_COLORS.length];
}

/**
 * state: {image, view, instances, selected, selectedKp, edges, keypointNames, preview}
 * `preview` is a box being drawn, in image coordinates, or null.
 */
export function drawScene(ctx, cssWidth, cssHeight, state) {
  const { image, view, instances, selected } = state;
  ctx.save();
  ctx.fillStyle = "#1b1d22";
  ctx.fillRect(0, 0, cssWidth, cssHeight);
  if (image) {
    ctx.imageSmoothingEnabled = view.scale < 2;
    ctx.drawImage(image, view.ox, view.oy, image.naturalWidth * view.scale, image.naturalHeight * view.scale);
  }
  instances.forEach((inst, i) => {
    if (i !== selected) drawInstance(ctx, state, inst, i, false);
  });
  if (selected >= 0 && instances[selected]) drawInstance(ctx, state, instances[selected], selected, true);
  if (state.preview) {
    const [x1, y1] = view.toScreen(state.preview[0], state.preview[1]);
    const [x2, y2] = view.toScreen(state.preview[2], state.preview[3]);
    ctx.strokeStyle = "#ffffff";
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1.5;
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
  }
  ctx.restore();
}

function drawInstance(ctx, state, inst, i, isSelected) {
  const { view, edges, keypointNames } = state;
  const color = instanceColor(inst, i);
  const predicted = inst.source === "predicted";
  const dash = predicted ? [6, 4] : [];
  const pts = inst.keypoints.map((p) => (p ? view.toScreen(p[0], p[1]) : null));

  if (inst.box) {
    const [x1, y1] = view.toScreen(inst.box[0], inst.box[1]);
    const [x2, y2] = view.toScreen(inst.box[2], inst.box[3]);
    if (isSelected) {
      ctx.setLineDash([]);
      ctx.strokeStyle = "rgba(0,0,0,0.8)";
      ctx.lineWidth = 5;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    }
    ctx.setLineDash(dash);
    ctx.strokeStyle = color;
    ctx.lineWidth = isSelected ? 3 : 1.5;
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    drawTag(ctx, inst, i, x1, y1, color);
    if (isSelected) {
      ctx.setLineDash([]);
      for (const corner of Object.keys(CORNERS)) {
        const [ix, iy] = CORNERS[corner];
        const [hx, hy] = view.toScreen(inst.box[ix], inst.box[iy]);
        ctx.fillStyle = "#ffffff";
        ctx.strokeStyle = "#000000";
        ctx.lineWidth = 1;
        ctx.fillRect(hx - HANDLE_PX / 2 - 1, hy - HANDLE_PX / 2 - 1, HANDLE_PX + 2, HANDLE_PX + 2);
        ctx.strokeRect(hx - HANDLE_PX / 2 - 1, hy - HANDLE_PX / 2 - 1, HANDLE_PX + 2, HANDLE_PX + 2);
      }
    }
  }

  ctx.setLineDash(dash);
  ctx.strokeStyle = color;
  ctx.lineWidth = isSelected ? 2.5 : 1.5;
  for (const [a, b] of edges) {
    if (!pts[a] || !pts[b]) continue;
    ctx.beginPath();
    ctx.moveTo(pts[a][0], pts[a][1]);
    ctx.lineTo(pts[b][0], pts[b][1]);
    ctx.stroke();
  }

  pts.forEach((p, k) => {
    if (!p) return;
    const vis = inst.visibility[k];
    const r = isSelected ? 6 : 5;
    const kc = KEYPOINT_COLORS[k % KEYPOINT_COLORS.length];
    ctx.beginPath();
    ctx.arc(p[0], p[1], r, 0, 2 * Math.PI);
    if (vis === 2) {
      ctx.setLineDash([]);
      ctx.fillStyle = kc;
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = predicted ? PREDICTED_COLOR : "#000000";
      ctx.stroke();
    } else {
      // labeled but not clearly visible: hollow, dashed ring
      ctx.setLineDash([3, 2]);
      ctx.lineWidth = 2;
      ctx.strokeStyle = kc;
      ctx.stroke();
    }
    const isCurrent = isSelected && state.selectedKp === k;
    if (isCurrent) {
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.arc(p[0], p[1], r + 4, 0, 2 * Math.PI);
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }
    if (isSelected) {
      ctx.setLineDash([]);
      ctx.font = "12px system-ui, sans-serif";
      ctx.lineWidth = 3;
      ctx.strokeStyle = "rgba(0,0,0,0.85)";
      ctx.strokeText(keypointNames[k], p[0] + 9, p[1] - 7);
      ctx.fillStyle = "#ffffff";
      ctx.fillText(keypointNames[k], p[0] + 9, p[1] - 7);
    }
  });
  ctx.setLineDash([]);
}

function drawTag(ctx, inst, i, x, y, color) {
  const parts = [inst.source === "predicted" ? "pred" : `#${i + 1}`];
  if (inst.track_id !== null && inst.track_id !== undefined) parts.push(`track ${inst.track_id}`);
  if (inst.source === "predicted" && inst.box_score != null) parts.push(inst.box_score.toFixed(2));
  const text = parts.join(" · ");
  ctx.setLineDash([]);
  ctx.font = "bold 12px system-ui, sans-serif";
  const w = ctx.measureText(text).width + 8;
  ctx.fillStyle = "rgba(0,0,0,0.7)";
  ctx.fillRect(x, y - 17, w, 16);
  ctx.fillStyle = color;
  ctx.fillText(text, x + 4, y - 5);
}
