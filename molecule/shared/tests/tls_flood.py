#!/usr/bin/env python3
"""A bounded TLS handshake flood with a good-handshake loop beside it; prints one JSON report.

Runs anywhere a python3 (3.9+, standard library only) is: the lab containers, or the controller.

    tls_flood.py good --target HOST:PORT --sni NAME --seconds S          # the loop alone
    tls_flood.py bad --target HOST:PORT --kind tls10 --count N           # N at once, one kind
    tls_flood.py flood --target HOST:PORT --sni NAME --count 500 [--good-target ...]

`flood` starts the good loop (TLS 1.2, a policy suite, secp384r1 only), then N refused
handshakes at once split over the kinds (TLS 1.0/1.1 only, TLS 1.3 only, an unlisted suite,
P-256 only), waits for them, lets the loop run one more second and reports
{"refused": .., "accepted_bad": .., "bad_unanswered": .., "good_ok": .., "good_failed": ..,
"good_errors": [..]}. A good handshake that fails is a drop. Every phase is bounded in time.

A client's groups cannot be set from Python's ssl module, so each kind runs in its own process
with an OPENSSL_CONF naming its groups (the way the SBC pins secp384r1).
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)  # TLS 1.0/1.1 on purpose
GOOD_SUITES = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"
KINDS = {
    # kind: (groups, what the client offers)
    "tls10": ("P-384:P-256:X25519", "TLS 1.0 only"),
    "tls11": ("P-384:P-256:X25519", "TLS 1.1 only"),
    "tls13": ("P-384:P-256:X25519", "TLS 1.3 only"),
    "suite": ("P-384:P-256:X25519", "TLS 1.2, ECDHE-RSA-CHACHA20-POLY1305 only"),
    "p256": ("P-256", "TLS 1.2, a policy suite, P-256 only"),
    "good": ("P-384", "TLS 1.2, the policy's ECDHE suites, secp384r1 only"),
}
OPENSSL_CNF = """openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Groups = %s
"""


def context(kind):
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if kind in ("tls10", "tls11"):
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        version = ssl.TLSVersion.TLSv1 if kind == "tls10" else ssl.TLSVersion.TLSv1_1
        ctx.minimum_version = ctx.maximum_version = version
    elif kind == "tls13":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    else:
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-RSA-CHACHA20-POLY1305" if kind == "suite" else GOOD_SUITES)
    return ctx


async def handshake(host, port, sni, ctx, timeout):
    """(True, cipher) on a completed handshake, (False, reason) otherwise."""
    writer = None
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ctx, server_hostname=sni or None), timeout)
        cipher = writer.get_extra_info("cipher")
        return True, "%s %s" % (cipher[1], cipher[0])
    except asyncio.TimeoutError:
        return False, "timeout"
    except OSError as exc:  # ssl.SSLError, ConnectionRefusedError, ConnectionResetError...
        return False, "%s: %s" % (type(exc).__name__, exc)
    finally:
        if writer is not None:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 2)
            except (OSError, asyncio.TimeoutError):
                pass


def run_good(args):
    host, port = args.target.rsplit(":", 1)
    ctx = context("good")
    report = {"good_ok": 0, "good_failed": 0, "good_errors": [], "good_ciphers": {}}
    deadline = time.monotonic() + args.seconds
    stop_file = args.stop_file

    async def loop():
        while time.monotonic() < deadline and not (stop_file and os.path.exists(stop_file)):
            ok, what = await handshake(host, int(port), args.sni, ctx, args.timeout)
            if ok:
                report["good_ok"] += 1
                report["good_ciphers"][what] = report["good_ciphers"].get(what, 0) + 1
            else:
                report["good_failed"] += 1
                report["good_errors"].append("%.3f %s" % (time.time(), what))
            await asyncio.sleep(args.interval)

    async def main():
        await asyncio.gather(*[loop() for _ in range(args.parallel)])

    asyncio.run(main())
    print(json.dumps(report))


def run_bad(args):
    host, port = args.target.rsplit(":", 1)
    ctx = context(args.kind)

    async def main():
        return await asyncio.gather(*[
            handshake(host, int(port), args.sni, ctx, args.timeout) for _ in range(args.count)])

    results = asyncio.run(main())
    report = {"kind": args.kind, "refused": 0, "accepted_bad": 0, "bad_unanswered": 0, "reasons": {}}
    for ok, what in results:
        if ok:
            report["accepted_bad"] += 1
        elif what == "timeout" or what.startswith(("ConnectionRefused", "TimeoutError")):
            report["bad_unanswered"] += 1  # never reached a TLS answer (refused at TCP, or dropped)
        else:
            report["refused"] += 1
        key = what.split(" (")[0][:80]
        report["reasons"][key] = report["reasons"].get(key, 0) + 1
    print(json.dumps(report))


def spawn(kind, argv, tmp):
    cnf = os.path.join(tmp, "%s.cnf" % kind)
    with open(cnf, "w") as handle:
        handle.write(OPENSSL_CNF % KINDS[kind][0])
    env = dict(os.environ, OPENSSL_CONF=cnf)
    return subprocess.Popen([sys.executable, os.path.abspath(__file__)] + argv, env=env,
                            stdout=subprocess.PIPE, text=True)


def run_flood(args):
    kinds = args.kinds.split(",")
    share = [args.count // len(kinds) + (1 if i < args.count % len(kinds) else 0) for i in range(len(kinds))]
    with tempfile.TemporaryDirectory() as tmp:
        stop = os.path.join(tmp, "stop")
        common = ["--sni", args.sni, "--timeout", str(args.timeout)]
        good = None
        if not args.no_good:
            good = spawn("good", ["good", "--target", args.good_target or args.target, "--seconds",
                                  str(args.max_seconds), "--stop-file", stop, "--interval", str(args.interval),
                                  "--parallel", str(args.parallel)] + common, tmp)
            time.sleep(args.lead)
        started = time.monotonic()
        bad = [spawn(k, ["bad", "--target", args.target, "--kind", k, "--count", str(n)] + common, tmp)
               for k, n in zip(kinds, share) if n]
        outs = [json.loads(p.communicate(timeout=args.max_seconds + 30)[0] or "{}") for p in bad]
        flood_seconds = time.monotonic() - started
        time.sleep(args.tail)
        open(stop, "w").close()
        report = {"flood_seconds": round(flood_seconds, 2), "refused": 0, "accepted_bad": 0,
                  "bad_unanswered": 0, "per_kind": {}}
        for out in outs:
            for key in ("refused", "accepted_bad", "bad_unanswered"):
                report[key] += out.get(key, 0)
            report["per_kind"][out.get("kind", "?")] = out
        if good is not None:
            report.update(json.loads(good.communicate(timeout=args.max_seconds + 30)[0] or "{}"))
    print(json.dumps(report))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["good", "bad", "flood"])
    parser.add_argument("--target", required=True, help="HOST:PORT of the listener")
    parser.add_argument("--good-target", default="", help="HOST:PORT for the good loop (default --target)")
    parser.add_argument("--sni", default="")
    parser.add_argument("--kind", choices=sorted(KINDS), default="tls10")
    parser.add_argument("--kinds", default="tls10,tls11,tls13,suite,p256")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=10.0, help="per handshake, seconds")
    parser.add_argument("--seconds", type=float, default=10.0, help="good: how long the loop runs")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="flood: upper bound of every phase")
    parser.add_argument("--interval", type=float, default=0.0, help="good: pause between handshakes")
    parser.add_argument("--parallel", type=int, default=2, help="good: loops at once")
    parser.add_argument("--lead", type=float, default=0.5, help="flood: good loop alone before the flood")
    parser.add_argument("--tail", type=float, default=1.0, help="flood: good loop after the flood")
    parser.add_argument("--stop-file", default="")
    parser.add_argument("--no-good", action="store_true")
    args = parser.parse_args()
    {"good": run_good, "bad": run_bad, "flood": run_flood}[args.mode](args)


if __name__ == "__main__":
    main()
