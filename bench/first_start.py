"""Fresh-clone start-up measurement (issue 17 item 6): serve.sh from a fresh clone, then a warm
restart. Times from the serve.sh process start: set-up done (uvicorn exec'd), /health answered,
first forecast answered; and from the uvicorn exec to /health and to the first forecast."""
import json, os, signal, socket, subprocess, sys, time, urllib.request

CLONE = "/tmp/fresh17"
BODY = {
    "name": "first forecast",
    "pool": {"loans": [{"loan_id": "L1", "balance": 250000.0, "rate": 0.065,
                        "original_term_months": 360, "age_months": 12}]},
    "assumptions": {"prepayment": {"type": "psa", "speed": 150},
                    "default": {"type": "cdr", "rate": 0.02}, "severity": 0.35,
                    "recovery_lag_months": 6},
}

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def get(url, data=None, timeout=60):
    req = urllib.request.Request(url, data=None if data is None else json.dumps(data).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()

def run_once(label):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONPATH")}
    env["PORT"] = str(port)
    log = open(f"/tmp/h117/serve-{label}.log", "w")
    t0 = time.perf_counter()
    proc = subprocess.Popen(["bash", "scripts/serve.sh"], cwd=CLONE, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    t_exec = t_health = t_fc = t_fc2 = None
    try:
        while t_exec is None:
            try:
                cmd = open(f"/proc/{proc.pid}/cmdline", "rb").read()
            except FileNotFoundError:
                raise SystemExit(f"serve.sh exited: see /tmp/h117/serve-{label}.log")
            if b"uvicorn" in cmd:
                t_exec = time.perf_counter()
            elif proc.poll() is not None:
                raise SystemExit(f"serve.sh exited {proc.returncode}")
            else:
                time.sleep(0.02)
        while t_health is None:
            try:
                st, _ = get(f"http://127.0.0.1:{port}/health", timeout=5)
                if st == 200:
                    t_health = time.perf_counter()
            except Exception:
                time.sleep(0.02)
        st, body = get(f"http://127.0.0.1:{port}/api/v1/cashflow/forecast", BODY, timeout=300)
        t_fc = time.perf_counter()
        assert st == 201, (st, body[:300])
        s = time.perf_counter()
        st, body = get(f"http://127.0.0.1:{port}/api/v1/cashflow/forecast", BODY, timeout=300)
        t_fc2 = time.perf_counter() - s
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    return {
        "run": label,
        "setup_s": round(t_exec - t0, 2),
        "serve_start_to_health_s": round(t_health - t0, 2),
        "serve_start_to_first_forecast_s": round(t_fc - t0, 2),
        "uvicorn_start_to_health_s": round(t_health - t_exec, 2),
        "uvicorn_start_to_first_forecast_s": round(t_fc - t_exec, 2),
        "first_forecast_request_s": round(t_fc - t_health, 3),
        "second_forecast_request_s": round(t_fc2, 3),
        "load_after": os.getloadavg(),
    }

if __name__ == "__main__":
    print("load before", os.getloadavg(), flush=True)
    out = [run_once("fresh")]
    print(json.dumps(out[-1]), flush=True)
    for k in range(3):
        out.append(run_once(f"warm{k + 1}"))
        print(json.dumps(out[-1]), flush=True)
    json.dump(out, open("/tmp/h117/measure.json", "w"), indent=1)
