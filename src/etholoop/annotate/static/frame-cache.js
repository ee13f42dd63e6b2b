// Frames (labels + decoded image) by id, with prefetch so "next frame" is instant.
// Labels older than `maxAgeMs` are fetched again; a stale copy could only cause a
// conflict on save, never an overwrite.

import { api, loadImage } from "./api.js";

export class FrameCache {
  constructor({ maxAgeMs = 15000, maxEntries = 8 } = {}) {
    this.maxAgeMs = maxAgeMs;
    this.maxEntries = maxEntries;
    this.entries = new Map(); // id -> {time, frame: Promise, image: Promise}
  }

  /** {frame, image} of frame `id`; `fresh` skips cached labels (the image is kept). */
  async get(id, { fresh = false } = {}) {
    let entry = this.entries.get(id);
    const old = entry && performance.now() - entry.time > this.maxAgeMs;
    if (!entry || fresh || old) {
      const frame = api(`/api/frames/${id}`);
      const image = entry?.image ?? frame.then((f) => loadImage(f.image));
      entry = { time: performance.now(), frame, image };
      this.remember(id, entry);
    }
    try {
      const [frame, image] = await Promise.all([entry.frame, entry.image]);
      return { frame, image };
    } catch (error) {
      this.entries.delete(id);
      throw error;
    }
  }

  /** Start loading frame `id` in the background. */
  prefetch(id) {
    if (id === null || id === undefined || this.entries.has(id)) return;
    this.get(id).catch(() => {});
  }

  /** The labels of a frame just saved (the server's answer). */
  put(frame) {
    const entry = this.entries.get(frame.id);
    if (entry) {
      entry.frame = Promise.resolve(frame);
      entry.time = performance.now();
    }
  }

  remember(id, entry) {
    this.entries.delete(id);
    this.entries.set(id, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value);
  }
}
