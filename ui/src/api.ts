// The API client: same origin, bearer token from the sign-in page (sessionStorage), errors as
// ApiError with the field problems of a 422 (`detail: [{loc, msg, type}]`).

export interface FieldProblem {
  loc: (string | number)[];
  msg: string;
  type?: string;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public problems: FieldProblem[] = [],
    public requestId?: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = "cfe.token";

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { ...extra };
  const t = getToken();
  if (t) h["Authorization"] = `Bearer ${t}`;
  return h;
}

async function toError(resp: Response): Promise<ApiError> {
  let body: any = null;
  try {
    body = await resp.json();
  } catch {
    /* not JSON */
  }
  const rid = body?.request_id ?? resp.headers.get("X-Request-ID") ?? undefined;
  const detail = body?.detail;
  if (Array.isArray(detail)) {
    const problems = detail.map((d: any) => ({ loc: d.loc ?? [], msg: String(d.msg ?? d), type: d.type }));
    return new ApiError(resp.status, body?.error ?? "invalid_input", problems.map((p) => p.msg).join("; "), problems, rid);
  }
  const msg = typeof detail === "string" ? detail : resp.statusText || `HTTP ${resp.status}`;
  return new ApiError(resp.status, body?.error ?? String(resp.status), `${msg} (HTTP ${resp.status})`, [], rid);
}

export interface CallOptions {
  method?: string;
  json?: unknown;
  form?: FormData;
  accept?: string;
}

/** Call the API; JSON answers are parsed, 202/201 bodies included; errors throw ApiError. */
export async function call<T = any>(path: string, opts: CallOptions = {}): Promise<{ status: number; body: T }> {
  const extra: Record<string, string> = { Accept: opts.accept ?? "application/json" };
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    extra["Content-Type"] = "application/json";
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    body = opts.form;
  }
  const resp = await fetch(path, { method: opts.method ?? (body ? "POST" : "GET"), headers: headers(extra), body });
  if (!resp.ok) throw await toError(resp);
  if (resp.status === 204) return { status: 204, body: null as T };
  const type = resp.headers.get("content-type") ?? "";
  const parsed = type.includes("json") ? await resp.json() : await resp.text();
  return { status: resp.status, body: parsed as T };
}

export async function get<T = any>(path: string): Promise<T> {
  return (await call<T>(path)).body;
}

/** Fetch a file with the caller's token and save it under `filename` (an object URL). */
export async function download(path: string, filename: string, accept = "*/*"): Promise<Blob> {
  const resp = await fetch(path, { headers: headers({ Accept: accept }) });
  if (!resp.ok) throw await toError(resp);
  const blob = await resp.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return blob;
}

let spec: Promise<Set<string>> | null = null;

/** The API's paths from /openapi.json (feature detection of routes built elsewhere). */
export function apiPaths(): Promise<Set<string>> {
  if (!spec) {
    spec = fetch("/openapi.json")
      .then((r) => (r.ok ? r.json() : { paths: {} }))
      .then((s) => new Set(Object.keys(s.paths ?? {})))
      .catch(() => new Set<string>());
  }
  return spec;
}
