// Who is signed in: GET /api/v1/me answers the local user when no auth is configured, the
// token's subject with a valid token, and 401 otherwise.
import { ApiError, get, setToken } from "./api";

export interface Me {
  user_id: string;
  auth: "local" | "token";
}

export const session: { me: Me | null; needsToken: boolean } = { me: null, needsToken: false };

export async function refreshSession(): Promise<Me | null> {
  try {
    session.me = await get<Me>("/api/v1/me");
    session.needsToken = session.me.auth === "token";
  } catch (e) {
    session.me = null;
    if (e instanceof ApiError && e.status === 401) session.needsToken = true;
    else throw e;
  }
  renderWho();
  return session.me;
}

export async function signInWithToken(token: string): Promise<Me> {
  setToken(token.trim());
  try {
    const me = await get<Me>("/api/v1/me"); // a refused token: the API's reason (401)
    session.me = me;
    session.needsToken = true;
    renderWho();
    return me;
  } catch (e) {
    setToken(null);
    session.me = null;
    renderWho();
    throw e;
  }
}

export function signOut(): void {
  forgetRefresh();
  setToken(null);
  session.me = null;
  renderWho();
}

export function renderWho(): void {
  const who = document.getElementById("who")!;
  const out = document.getElementById("signout") as HTMLButtonElement;
  if (session.me) {
    who.textContent = session.me.auth === "local" ? "Local user (no auth configured)" : `Signed in: ${session.me.user_id}`;
    out.hidden = session.me.auth === "local";
  } else {
    who.textContent = "Not signed in";
    out.hidden = true;
  }
}

// ---- Supabase email + password sign-in (when /ui/config.json names a public project key) ----
export interface UiConfig {
  auth: "local" | "token";
  supabase: { url: string; anon_key: string } | null;
}

let config: Promise<UiConfig> | null = null;

export function uiConfig(): Promise<UiConfig> {
  if (!config) {
    config = fetch("/ui/config.json")
      .then((r) => (r.ok ? r.json() : { auth: "token", supabase: null }))
      .catch(() => ({ auth: "token", supabase: null }));
  }
  return config;
}

const REFRESH_KEY = "cfe.refresh";
let refreshTimer: number | undefined;

async function supabaseToken(cfg: NonNullable<UiConfig["supabase"]>, grant: "password" | "refresh_token", body: Record<string, string>): Promise<{ access_token: string; refresh_token?: string; expires_in?: number }> {
  const resp = await fetch(`${cfg.url}/auth/v1/token?grant_type=${grant}`, {
    method: "POST",
    headers: { apikey: cfg.anon_key, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const out = await resp.json().catch(() => ({}));
  if (!resp.ok || !out.access_token) {
    const msg = out.error_description ?? out.msg ?? out.message ?? out.error ?? `HTTP ${resp.status}`;
    throw new ApiError(resp.status, "supabase", String(msg), [{ loc: ["password"], msg: String(msg) }]);
  }
  return out;
}

function scheduleRefresh(cfg: NonNullable<UiConfig["supabase"]>, expiresIn: number | undefined): void {
  window.clearTimeout(refreshTimer);
  const refresh = sessionStorage.getItem(REFRESH_KEY);
  if (!refresh || !expiresIn) return;
  // renew a minute before the access token expires
  refreshTimer = window.setTimeout(async () => {
    try {
      const out = await supabaseToken(cfg, "refresh_token", { refresh_token: refresh });
      setToken(out.access_token);
      if (out.refresh_token) sessionStorage.setItem(REFRESH_KEY, out.refresh_token);
      scheduleRefresh(cfg, out.expires_in);
    } catch {
      /* the next API call answers 401 and the sign-in page asks again */
    }
  }, Math.max(5, expiresIn - 60) * 1000);
}

/** Sign in with Supabase (email + password), then check the token with the service. */
export async function signInWithSupabase(email: string, password: string): Promise<Me> {
  const cfg = (await uiConfig()).supabase;
  if (!cfg) throw new Error("this service has no Supabase sign-in configured");
  const out = await supabaseToken(cfg, "password", { email, password });
  if (out.refresh_token) sessionStorage.setItem(REFRESH_KEY, out.refresh_token);
  const me = await signInWithToken(out.access_token);
  scheduleRefresh(cfg, out.expires_in);
  return me;
}

export function forgetRefresh(): void {
  window.clearTimeout(refreshTimer);
  sessionStorage.removeItem(REFRESH_KEY);
}
