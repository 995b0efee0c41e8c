// Sign-in: the local single user when no auth is configured, otherwise a pasted JWT (a
// Supabase access token, `Authorization: Bearer` for every call and the WebSocket).
import { ApiError } from "../api";
import { h, field, formError, showErrors, busy } from "../dom";
import { session, signInWithSupabase, signInWithToken, uiConfig } from "../session";
import { resetSocket } from "../ws";
import { go } from "../nav";

export async function renderSignIn(main: HTMLElement): Promise<void> {
  main.append(h("h1", {}, "Sign in"));
  if (session.me) {
    main.append(
      h("section", { class: "card" },
        h("p", {}, session.me.auth === "local"
          ? "No auth is configured on this service: you are the single local user (loopback only)."
          : `Signed in as ${session.me.user_id} with a token.`),
        h("p", {}, h("a", { href: "#/pools" }, "Go to pools"), " · ", h("a", { href: "#/forecasts" }, "Go to forecasts"))),
    );
    if (session.me.auth === "local") return;
  }
  const cfg = await uiConfig();
  if (cfg.supabase) main.append(supabaseForm());
  const token = h("textarea", { rows: 4, cols: 60, name: "token", autocomplete: "off", spellcheck: "false", "data-testid": "token" });
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h("form", { class: "card", novalidate: true, "data-testid": "token-form" },
    h("h2", {}, "Access token"),
    h("p", {}, "This service checks Supabase JWTs. Paste an access token (for example from your Supabase session: ",
      h("code", {}, "supabase.auth.getSession()"), ")."),
    field("Access token (JWT)", token, { loc: "token", hint: "Kept in this tab only (sessionStorage)." }),
    formError(), submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    busy(submit, true);
    try {
      if (!token.value.trim()) throw new Error("paste a token first");
      await signInWithToken(token.value);
      resetSocket();
      go("#/pools");
    } catch (e) {
      // a refused token (401) is about the token field: show the API's reason next to it
      const named = e instanceof ApiError && e.status === 401 ? new ApiError(401, e.code, e.message, [{ loc: ["token"], msg: e.message }]) : e;
      showErrors(form, named);
    } finally {
      busy(submit, false);
    }
  });
  main.append(form);
}

function supabaseForm(): HTMLElement {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", "data-testid": "email" });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", "data-testid": "password" });
  const submit = h("button", { type: "submit", "data-testid": "supabase-signin" }, "Sign in with Supabase");
  const form = h("form", { class: "card", novalidate: true, "data-testid": "supabase-form" },
    h("h2", {}, "Email and password"),
    h("p", { class: "hint" }, "Signs in with this service's Supabase project; the session is kept in this tab and renewed before it expires."),
    h("div", { class: "row" }, field("Email", email, { loc: "email" }), field("Password", password, { loc: "password" })),
    formError(), submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    busy(submit, true);
    try {
      await signInWithSupabase(email.value.trim(), password.value);
      resetSocket();
      go("#/pools");
    } catch (e) {
      showErrors(form, e);
    } finally {
      busy(submit, false);
    }
  });
  return form;
}
