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
