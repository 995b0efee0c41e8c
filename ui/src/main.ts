// The dashboard shell: hash routes (#/pools, #/forecasts/<id>, ...), sign-in guard, focus moved
// to each page's heading for keyboard and screen-reader users.
import "./style.css";
import { apiPaths } from "./api";
import { h } from "./dom";
import { refreshSession, renderWho, session, signOut } from "./session";
import { resetSocket } from "./ws";
import { go } from "./nav";
import { renderSignIn } from "./pages/signin";
import { renderPools } from "./pages/pools";
import { renderForecasts } from "./pages/forecasts";
import { renderRisk } from "./pages/risk";
import { renderJobs } from "./pages/jobs";
import { ASSET_ROUTES, renderAssets } from "./pages/assets";

export type Page = (main: HTMLElement, rest: string[], params: URLSearchParams) => void | Promise<void>;

const PAGES: Record<string, Page> = {
  signin: renderSignIn,
  pools: renderPools,
  forecasts: renderForecasts,
  risk: renderRisk,
  jobs: renderJobs,
  assets: renderAssets,
};

async function route(): Promise<void> {
  const main = document.getElementById("main")!;
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query] = raw.split("?");
  const parts = (path || "").split("/").filter(Boolean);
  let name = parts[0] ?? "forecasts";
  if (!session.me && name !== "signin") name = "signin";
  const page = PAGES[name] ?? PAGES.forecasts;
  document.querySelectorAll<HTMLAnchorElement>("#nav a").forEach((a) => {
    if (a.dataset.page === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  main.replaceChildren();
  main.dataset.page = name;
  try {
    await page(main, parts.slice(1), new URLSearchParams(query ?? ""));
  } catch (e) {
    main.append(h("p", { class: "form-error", role: "alert" }, String(e)));
  }
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
  document.title = `${heading?.textContent ?? "Dashboard"} · Credit Cashflow Engine`;
}

async function start(): Promise<void> {
  try {
    await refreshSession();
  } catch {
    renderWho();
  }
  document.getElementById("signout")!.addEventListener("click", () => {
    signOut();
    resetSocket();
    go("#/signin");
  });
  const paths = await apiPaths();
  if (ASSET_ROUTES.some((r) => paths.has(r.path))) document.getElementById("nav-assets")!.hidden = false;
  // the skip link must not change the hash: the hash is the route
  document.querySelector<HTMLAnchorElement>(".skip")!.addEventListener("click", (ev) => {
    ev.preventDefault();
    document.getElementById("main")!.focus();
  });
  window.addEventListener("hashchange", () => void route());
  await route();
  document.body.dataset.ready = "true";
}

void start();
