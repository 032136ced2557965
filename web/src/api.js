// Calls of the REST API. Paths are relative to the page, so the UI works
// behind a path prefix. The bearer token, if the user entered one, is kept
// in sessionStorage (gone when the tab closes) and sent with every call.

const TOKEN_KEY = "weir.token";

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}

export function setToken(t) {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lasts until the page reloads
  }
  memToken = t;
}

let memToken = "";
const authListeners = new Set();

// onUnauthorized registers fn, called with the server's message when a
// call gets 401; it returns the function that unregisters it.
export function onUnauthorized(fn) {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

export class APIError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function url(path) {
  return path.startsWith("/") ? "." + path : path;
}

// call sends a request and returns the decoded JSON body; non-2xx
// answers throw an APIError carrying the server's {"errors": [...]}.
export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  const token = getToken() || memToken;
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(url(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new APIError(0, "the server does not answer (" + e.message + ")");
  }
  let data = null;
  const text = await resp.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!resp.ok) {
    let msg = data && Array.isArray(data.errors) ? data.errors.join("; ") : text || resp.statusText;
    if (resp.status === 429) msg = "rate limited by the server (" + msg + ")";
    if (resp.status === 401) for (const fn of authListeners) fn(msg);
    throw new APIError(resp.status, msg);
  }
  return data;
}

export const get = (p) => call("GET", p);
export const post = (p, b) => call("POST", p, b === undefined ? {} : b);
export const del = (p) => call("DELETE", p);
