// Shared HTTP helpers: the page's ?token= travels as a Bearer header on fetch()
// and as a query parameter on image URLs and links.

const params = new URLSearchParams(location.search);
export const token = params.get("token");

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** The URL with `token` (and any extra query values) appended. */
export function withToken(url, extra = {}) {
  const u = new URL(url, location.origin);
  for (const [k, v] of Object.entries(extra)) {
    if (v !== null && v !== undefined && v !== "") u.searchParams.set(k, v);
  }
  if (token) u.searchParams.set("token", token);
  return u.pathname + u.search;
}

/** fetch() a JSON API route; throws ApiError with the server's `detail` on failure. */
export async function api(path, { method = "GET", body, form } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const data = await response.json();
      if (data.detail) detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail);
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, detail);
  }
  return response.json();
}

/** Load an image and wait until it is decoded, so drawing it is instant. */
export async function loadImage(url) {
  const img = new Image();
  img.src = withToken(url);
  await img.decode();
  return img;
}

export function queryParam(name) {
  return params.get(name);
}

/** Replace query values in the address bar without reloading. */
export function setQueryParams(values) {
  const u = new URL(location.href);
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined) u.searchParams.delete(k);
    else u.searchParams.set(k, v);
  }
  history.replaceState(null, "", u.pathname + u.search);
}

/** Runs saves one at a time: a save waits for the one in flight, and does nothing
 * when there is nothing to save. `afterSave` runs when each save has ended. */
export class SaveQueue {
  constructor(hasChanges, saveNow, afterSave) {
    this.hasChanges = hasChanges;
    this.saveNow = saveNow;
    this.afterSave = afterSave;
    this.inFlight = null;
  }

  get busy() {
    return this.inFlight !== null;
  }

  /** Resolves true when the state is saved (or was already), false when a save failed. */
  async save() {
    if (this.inFlight) await this.inFlight;
    if (!this.hasChanges()) return true;
    this.inFlight = this.saveNow();
    try {
      return await this.inFlight;
    } finally {
      this.inFlight = null;
      this.afterSave();
    }
  }
}
