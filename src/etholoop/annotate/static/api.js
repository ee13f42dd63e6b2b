// Shared HTTP helpers. A server with a token answered the page's ?token= with a
// cookie that every later request carries (fetch, images, links), so the token is
// taken out of the address bar, out of history and of shared screenshots.

const params = new URLSearchParams(location.search);

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** The URL with query values appended (empty ones left out). */
export function withQuery(url, values) {
  const u = new URL(url, location.origin);
  for (const [k, v] of Object.entries(values)) {
    if (v !== null && v !== undefined && v !== "") u.searchParams.set(k, v);
  }
  return u.pathname + u.search;
}

/** fetch() a JSON API route; throws ApiError with the server's `detail` on failure. */
export async function api(path, { method = "GET", body, form } = {}) {
  const headers = {};
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
  img.src = url;
  await img.decode();
  return img;
}

export function queryParam(name) {
  return params.get(name);
}

/** Replace query values in the address bar without reloading (null removes one). */
export function setQueryParams(values) {
  const u = new URL(location.href);
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined) u.searchParams.delete(k);
    else u.searchParams.set(k, v);
  }
  history.replaceState(null, "", u.pathname + u.search);
}

if (params.has("token")) setQueryParams({ token: null });
