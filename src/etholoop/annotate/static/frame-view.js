// Shows video frame `idx` in an <img>, frame-exact: while one image loads, only the
// latest request waits; older ones are skipped so scrubbing never queues up.

export class FrameView {
  constructor(img, onShown) {
    this.img = img;
    this.onShown = onShown ?? (() => {});
    this.videoId = null;
    this.loading = false;
    this.pending = null;
    this.shown = null;
  }

  setVideo(videoId) {
    this.videoId = videoId;
    this.shown = null;
  }

  show(idx) {
    this.pending = idx;
    if (!this.loading) this.next();
  }

  async next() {
    if (this.pending === null || this.videoId === null) return;
    const idx = this.pending;
    const videoId = this.videoId;
    this.pending = null;
    this.loading = true;
    const img = new Image();
    img.src = `/api/videos/${videoId}/frames/${idx}`;
    try {
      await img.decode();
      if (videoId === this.videoId) {
        this.img.src = img.src;
        this.shown = idx;
        this.onShown(idx);
      }
    } catch {
      /* a failed frame leaves the previous one on screen */
    } finally {
      this.loading = false;
      if (this.pending !== null) this.next();
    }
  }
}
