#!/usr/bin/env python3
"""Latency probes for bench/scale.sh (stdlib only): sequential requests,
p50/p99 in milliseconds.

  scale_probe.py refresh BASE USER PASSWORD N   refresh chains: sign in once per
                                               thread (4), then N rotations each
  scale_probe.py get BASE BEARER PATH N        N sequential GETs of PATH
"""
import json
import sys
import threading
import time
import urllib.request


def post(base, body):
    req = urllib.request.Request(
        base + "/api/token",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p))]


def refresh(base, user, password, n):
    samples, errors = [], []

    def chain():
        token = post(base, {"grant_type": "password", "username": user, "password": password})["refresh_token"]
        for _ in range(n):
            t = time.perf_counter()
            try:
                token = post(base, {"grant_type": "refresh_token", "refresh_token": token})["refresh_token"]
            except Exception as e:  # counted, then the chain stops
                errors.append(str(e))
                return
            samples.append((time.perf_counter() - t) * 1000)

    threads = [threading.Thread(target=chain) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return samples, errors


def get(base, bearer, path, n):
    samples, errors = [], []
    for _ in range(n):
        req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + bearer})
        t = time.perf_counter()
        try:
            with urllib.request.urlopen(req) as r:
                r.read()
        except Exception as e:
            errors.append(str(e))
            continue
        samples.append((time.perf_counter() - t) * 1000)
    return samples, errors


def main():
    kind = sys.argv[1]
    if kind == "refresh":
        samples, errors = refresh(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        samples, errors = get(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    if not samples:
        print(f"0 0 0 {len(errors)}")
        return
    print(f"{pct(samples, 0.5):.2f} {pct(samples, 0.99):.2f} {len(samples)} {len(errors)}")


if __name__ == "__main__":
    main()
