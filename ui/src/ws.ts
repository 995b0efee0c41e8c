// One WebSocket to /ws/updates for the page: authenticates with the first message (the token
// never goes into a URL), re-subscribes after a reconnect, and fans updates out to listeners.
import { getToken } from "./api";

export interface JobUpdate {
  type?: string;
  job_id: string;
  state: string;
  progress: { done: number; total: number };
  message?: string | null;
  ts?: number;
}

type Listener = (u: JobUpdate) => void;

const listeners = new Set<Listener>();
const wanted = new Set<string>();
let socket: WebSocket | null = null;
let ready = false;
let retry = 0;
export const wsStats = { messages: 0, state: "closed" as "closed" | "connecting" | "ready" | "error" };

function setState(s: typeof wsStats.state): void {
  wsStats.state = s;
  document.body.dataset.ws = s;
}

function connect(): void {
  if (socket && socket.readyState <= WebSocket.OPEN) return;
  const proto = location.protocol === "https:" ? "wss" : "ws";
  setState("connecting");
  ready = false;
  const ws = new WebSocket(`${proto}://${location.host}/ws/updates`);
  socket = ws;
  ws.onopen = () => {
    const token = getToken();
    if (token) ws.send(JSON.stringify({ type: "auth", token }));
  };
  ws.onmessage = (ev) => {
    let msg: any;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (msg.type === "ready") {
      ready = true;
      retry = 0;
      setState("ready");
      wanted.forEach((id) => ws.send(JSON.stringify({ type: "subscribe", job_id: id })));
    } else if (msg.type === "ping") {
      ws.send(JSON.stringify({ type: "pong" }));
    } else if (msg.type === "error") {
      if (msg.error === "unauthorized") setState("error");
    } else if (msg.job_id && msg.state) {
      wsStats.messages += 1;
      listeners.forEach((l) => l(msg as JobUpdate));
    }
  };
  ws.onclose = () => {
    ready = false;
    socket = null;
    if (wsStats.state !== "error") setState("closed");
    if (wanted.size && wsStats.state !== "error") {
      retry = Math.min(retry + 1, 5);
      setTimeout(connect, 500 * 2 ** retry);
    }
  };
}

/** Follow a job: its current state comes at once, then every update. */
export function follow(jobId: string): void {
  wanted.add(jobId);
  connect();
  if (ready && socket) socket.send(JSON.stringify({ type: "subscribe", job_id: jobId }));
}

export function unfollow(jobId: string): void {
  wanted.delete(jobId);
  if (ready && socket) socket.send(JSON.stringify({ type: "unsubscribe", job_id: jobId }));
}

export function onUpdate(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function resetSocket(): void {
  socket?.close();
  socket = null;
  if (wsStats.state === "error") setState("closed");
}
