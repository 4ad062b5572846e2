#!/usr/bin/env python3
"""symp serve under load, measured from the client side (standard library only).

Usage: serve_bench.py BASE_URL WAV [--clients 1,4,8] [--seconds 30] [--max-tokens N] [--model NAME]
Prints, for a streamed request from one client, the time to first audio and to the last byte (median and
90th percentile of --ttfa-requests), then for each client count the sustained replies per minute and
generated tokens per second over --seconds, and the median latency. Every reply must be a 200.
"""
import argparse, base64, json, statistics, threading, time, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("url")
ap.add_argument("wav")
ap.add_argument("--clients", default="1,4,8")
ap.add_argument("--seconds", type=float, default=30)
ap.add_argument("--max-tokens", type=int, default=0, help="0: the server's default")
ap.add_argument("--model", default="lora")
ap.add_argument("--ttfa-requests", type=int, default=8)
args = ap.parse_args()
audio = base64.b64encode(open(args.wav, "rb").read()).decode()


def body(stream, i):
    b = {"model": args.model, "modalities": ["text", "audio"], "audio": {"format": "pcm16" if stream else "wav"},
         "stream": stream, "seed": 1000 + i,
         "affect": {"valence": ((i % 5) - 2) / 2.0, "arousal": ((i % 3) - 1) / 1.0},
         "messages": [{"role": "user", "content": [{"type": "input_audio",
                                                    "input_audio": {"data": audio, "format": "wav"}}]}]}
    if args.max_tokens:
        b["max_tokens"] = args.max_tokens
    return json.dumps(b).encode()


def post(data):
    req = urllib.request.Request(args.url + "/v1/chat/completions", data, {"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=600)


def streamed(i):
    t0 = time.monotonic()
    first = None
    tokens = 0
    with post(body(True, i)) as r:
        for line in r:
            line = line.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            e = json.loads(line[6:])
            d = e["choices"][0]["delta"]
            if first is None and "audio" in d and "data" in d["audio"]:
                first = time.monotonic() - t0
            if "usage" in e:
                tokens = e["usage"]["completion_tokens"]
    return first, time.monotonic() - t0, tokens


firsts, totals = [], []
streamed(0)  # warm-up
for i in range(args.ttfa_requests):
    f, t, _ = streamed(i + 1)
    if f is not None:
        firsts.append(f)
    totals.append(t)
q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]
if firsts:
    print("time to first audio (1 client, streamed): median %.3f s, p90 %.3f s over %d replies; goal 0.250 s: %.1fx the goal"
          % (statistics.median(firsts), q(firsts, 0.9), len(firsts), statistics.median(firsts) / 0.25))
print("whole streamed reply: median %.2f s" % statistics.median(totals))

for n in [int(c) for c in args.clients.split(",")]:
    done, latencies, tokens, errors = [0], [], [0], []
    lock = threading.Lock()
    stop_at = time.monotonic() + args.seconds

    def client(k):
        i = 0
        while time.monotonic() < stop_at:
            t0 = time.monotonic()
            try:
                with post(body(False, 100 * k + i)) as r:
                    j = json.load(r)
                with lock:
                    done[0] += 1
                    latencies.append(time.monotonic() - t0)
                    tokens[0] += j["usage"]["completion_tokens"]
            except Exception as e:  # noqa: BLE001 - every failure is reported
                with lock:
                    errors.append(str(e))
            i += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    print("%d client(s): %.1f replies/min, %.0f generated tokens/s, median latency %.2f s, %d errors"
          % (n, done[0] * 60 / wall, tokens[0] / wall, statistics.median(latencies) if latencies else float("nan"),
             len(errors)))
    if errors:
        print("  first error:", errors[0])
