// Paints one frame: the image, then every instance's box, skeleton and keypoints.

import { CORNERS, HANDLE_PX, derivedBox } from "./pose-geometry.js";

const INSTANCE_COLORS = ["#3ddc97", "#4cc9f0", "#ffd166", "#f4978e", "#b8f2e6", "#cdb4db"];
const PREDICTED_COLOR = "#ff4fd8";
export const KEYPOINT_COLORS = ["#ff595e", "#ffca3a", "#8ac926", "#1982c4", "#6a4c93", "#ff924c", "#52d1dc", "#f15bb5", "#fee440"];

export function instanceColor(inst, i) {
  if (inst.source === "predicted") return PREDICTED_COLOR;
  const n = inst.track_id ?? i;
  return INSTANCE_COLORS[((n % INSTANCE_COLORS.length) + INSTANCE_COLORS.length) % INSTANCE_COLORS.length];
}

/**
 * state: {image, view, instances, selected, selectedKp, hovered, edges, keypointNames, preview}
 * `preview` is a box being drawn, in image coordinates, or null; `hovered` is the
 * keypoint under the mouse, {index, k}, or null.
 * Returns the keypoint names drawn, [{text, x, y}] in screen coordinates: beside every
 * keypoint of the selected instance, and beside the hovered keypoint.
 */
export function drawScene(ctx, cssWidth, cssHeight, state) {
  const { image, view, instances, selected } = state;
  const names = [];
  ctx.save();
  ctx.fillStyle = "#1b1d22";
  ctx.fillRect(0, 0, cssWidth, cssHeight);
  if (image) {
    ctx.imageSmoothingEnabled = view.scale < 2;
    ctx.drawImage(image, view.ox, view.oy, image.naturalWidth * view.scale, image.naturalHeight * view.scale);
  }
  instances.forEach((inst, i) => {
    if (i !== selected) drawInstance(ctx, state, inst, i, false, names);
  });
  if (selected >= 0 && instances[selected]) drawInstance(ctx, state, instances[selected], selected, true, names);
  if (state.preview) {
    const [x1, y1] = view.toScreen(state.preview[0], state.preview[1]);
    const [x2, y2] = view.toScreen(state.preview[2], state.preview[3]);
    ctx.strokeStyle = "#ffffff";
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1.5;
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
  }
  ctx.restore();
  return names;
}

function drawInstance(ctx, state, inst, i, isSelected, names) {
  const { view, edges, keypointNames, hovered } = state;
  const color = instanceColor(inst, i);
  const predicted = inst.source === "predicted";
  const dash = predicted ? [6, 4] : [];
  const pts = inst.keypoints.map((p) => (p ? view.toScreen(p[0], p[1]) : null));

  // without a stored box (imported labels), a thin dashed one around the keypoints
  const box = inst.box ?? derivedBox(inst);
  if (box) {
    const [x1, y1] = view.toScreen(box[0], box[1]);
    const [x2, y2] = view.toScreen(box[2], box[3]);
    if (isSelected && inst.box) {
      ctx.setLineDash([]);
      ctx.strokeStyle = "rgba(0,0,0,0.8)";
      ctx.lineWidth = 5;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    }
    ctx.setLineDash(inst.box ? dash : [4, 3]);
    ctx.strokeStyle = color;
    ctx.lineWidth = inst.box ? (isSelected ? 3 : 1.5) : isSelected ? 1.5 : 1.25;
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    drawTag(ctx, inst, i, x1, y1, color);
    if (isSelected) {
      ctx.setLineDash([]);
      for (const corner of Object.keys(CORNERS)) {
        const [ix, iy] = CORNERS[corner];
        const [hx, hy] = view.toScreen(box[ix], box[iy]);
        const [hs, half] = [HANDLE_PX + 2, HANDLE_PX / 2 + 1];
        ctx.fillStyle = inst.box ? "#ffffff" : "rgba(255,255,255,0.35)";
        ctx.strokeStyle = "#000000";
        ctx.lineWidth = 1;
        ctx.fillRect(hx - half, hy - half, hs, hs);
        ctx.strokeRect(hx - half, hy - half, hs, hs);
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
    if (isSelected || (hovered?.index === i && hovered.k === k)) drawName(ctx, keypointNames[k], p[0] + 9, p[1] - 7, names);
  });
  ctx.setLineDash([]);
}

function drawName(ctx, text, x, y, names) {
  ctx.setLineDash([]);
  ctx.font = "12px system-ui, sans-serif";
  ctx.lineWidth = 3;
  ctx.strokeStyle = "rgba(0,0,0,0.85)";
  ctx.strokeText(text, x, y);
  ctx.fillStyle = "#ffffff";
  ctx.fillText(text, x, y);
  names.push({ text, x, y });
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
