// Jobs: the caller's long runs with live progress bars fed by WS /ws/updates, cancel for the
// active ones, and a link that opens a finished job's result (a forecast, or a Monte Carlo run).
import { call, get } from "../api";
import { h, section } from "../dom";
import { go } from "../nav";
import { follow, onUpdate, JobUpdate } from "../ws";

type Json = Record<string, any>;
const ACTIVE = new Set(["queued", "running"]);

export function resultHash(job: Json): string | null {
  if (job.state !== "succeeded") return null;
  if (job.kind === "forecast" && job.result_id) return `#/forecasts/${job.result_id}`;
  return `#/risk?job=${job.job_id}`;
}

export async function renderJobs(main: HTMLElement, rest: string[]): Promise<void> {
  main.append(h("h1", {}, "Jobs"));
  const focus = rest[0];
  const listBox = h("div", { "data-testid": "job-list" });
  main.append(section("Your jobs", h("p", { class: "hint" }, "Progress arrives over the WebSocket /ws/updates; a finished job links to its result."), listBox));
  const page = await get<{ items: Json[] }>("/api/v1/jobs/?limit=50");
  const jobs = page.items;
  if (focus && !jobs.some((j) => j.job_id === focus)) jobs.unshift(await get<Json>(`/api/v1/jobs/${focus}`));
  if (!jobs.length) {
    listBox.append(h("p", {}, "No jobs yet. Tick “Run as a job” on the Forecasts page, or run a large Monte Carlo on the Risk page."));
    return;
  }
  const rows = new Map<string, (u: JobUpdate) => void>();
  const ul = h("ul", { class: "jobs" });
  for (const job of jobs) {
    const { li, update } = jobRow(job);
    if (job.job_id === focus) li.classList.add("focus");
    rows.set(job.job_id, update);
    ul.append(li);
    // active jobs, and the job this page was opened for (its final state comes at once)
    if (ACTIVE.has(job.state) || job.job_id === focus) follow(job.job_id);
  }
  listBox.append(ul);
  const off = onUpdate((u) => rows.get(u.job_id)?.(u));
  const obs = new MutationObserver(() => {
    if (!listBox.isConnected) {
      off();
      obs.disconnect();
    }
  });
  obs.observe(document.getElementById("main")!, { childList: true });
}

function jobRow(job: Json): { li: HTMLElement; update: (u: JobUpdate) => void } {
  const bar = h("div", { class: "bar-fill" });
  const progress = h("div", {
    class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": 0,
    "aria-label": `Progress of job ${job.name ?? job.job_id}`, "data-testid": "job-progress", "data-job-id": job.job_id,
  }, bar);
  const state = h("span", { class: "state", "data-testid": "job-state" });
  const msg = h("span", { class: "hint" });
  const cancel = h("button", { type: "button", class: "small", "data-testid": "job-cancel" }, "Cancel");
  const open = h("a", { href: "#", "data-testid": "job-open", hidden: true }, "Open result");
  const err = h("p", { class: "form-error", role: "alert", hidden: true });
  const li = h("li", { class: "job", "data-job-id": job.job_id },
    h("div", { class: "job-head" }, h("strong", {}, job.name ?? job.kind), " ", h("code", {}, job.kind), " ", state),
    progress, h("div", { class: "job-foot" }, msg, cancel, open), err);
  let updates = 0;
  const trail: number[] = [];
  const apply = (s: string, done: number, total: number, message?: string | null) => {
    // a finished job stays finished: a progress message published just before the cancel (or
    // the last chunk) can arrive after it and must not bring the row back to "running"
    if (li.dataset.state && !ACTIVE.has(li.dataset.state) && ACTIVE.has(s)) return;
    const pct = total > 0 ? Math.round((100 * done) / total) : s === "succeeded" ? 100 : 0;
    const shown = s === "succeeded" ? 100 : pct;
    bar.style.width = `${shown}%`;
    progress.setAttribute("aria-valuenow", String(shown));
    progress.setAttribute("aria-valuetext", `${shown}% (${done} of ${total})`);
    state.textContent = s;
    state.className = `state s-${s}`;
    li.dataset.state = s;
    msg.textContent = `${shown}%${total ? ` (${done} of ${total})` : ""}${message ? ` · ${message}` : ""}`;
    cancel.hidden = !ACTIVE.has(s);
    const link = resultHash({ ...job, state: s });
    open.hidden = !link;
    if (link) open.setAttribute("href", link);
  };
  apply(job.state, job.progress.done, job.progress.total, job.message);
  if (job.error) {
    err.hidden = false;
    err.textContent = `${job.error.type}: ${job.error.message}`;
  }
  cancel.addEventListener("click", async () => {
    try {
      const { body } = await call(`/api/v1/jobs/${job.job_id}`, { method: "DELETE" });
      apply(body.state, body.progress.done, body.progress.total, body.message);
    } catch (e) {
      err.hidden = false;
      err.textContent = String(e instanceof Error ? e.message : e);
    }
  });
  open.addEventListener("click", async (ev) => {
    ev.preventDefault();
    // the result id of a forecast job is known once it succeeded: re-read the job
    const fresh = await get<Json>(`/api/v1/jobs/${job.job_id}`);
    const link = resultHash(fresh);
    if (link) go(link);
  });
  const update = (u: JobUpdate) => {
    updates += 1;
    progress.dataset.wsUpdates = String(updates);
    apply(u.state, u.progress.done, u.progress.total, u.message);
    trail.push(Number(progress.getAttribute("aria-valuenow")));
    progress.dataset.wsTrail = trail.join(",");
  };
  return { li, update };
}
