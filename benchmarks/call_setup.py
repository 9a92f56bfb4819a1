"""Call set-up time through a converged lab SBC: INVITE from the customer side to the final answer.

    make lab-up; .venv/bin/python benchmarks/call_setup.py [--prefix byoc-default] [--calls 40]

Runs inside the lab SBC container (podman exec): a customer-side UA on 127.0.0.1 sends --calls
INVITEs one after another to the SBC; each goes through the runtime checks (customer source,
proven TLS connection, SRTP offer by rtpengine, dialog) to the lab "Genesys" peer over TLS, which
answers 486. Prints the median, 90th percentile and maximum of INVITE -> final reply, in ms.
Every call is bounded (15 s); traffic stays inside the lab's own containers.
"""

import argparse
import json
import os
import subprocess

CLIENT = r'''
import json, socket, statistics, sys, time, uuid
calls = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5073))
s.settimeout(15)
sdp = "v=0\r\no=pbx 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40010 RTP/AVP 0\r\n"
times, codes = [], []
for n in range(calls):
    cid = "bench-%s" % uuid.uuid4().hex
    msg = ("INVITE sip:+41445550100@sbc.customer.example SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:5073;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r\n"
           "From: <sip:+41445550999@pbx.lab.invalid>;tag=b\r\nTo: <sip:+41445550100@sbc.customer.example>\r\n"
           "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:pbx@127.0.0.1:5073>\r\n"
           "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s") % (cid[-12:], cid, len(sdp), sdp)
    start = time.perf_counter()
    s.sendto(msg.encode(), ("127.0.0.1", 5060))
    while True:
        data = s.recv(65535).decode()
        if cid in data and int(data.split(" ", 2)[1]) >= 200:
            break
    times.append((time.perf_counter() - start) * 1000)
    codes.append(data.split(" ", 2)[1])
    # ACK the final answer (same branch: ACK of a non-2xx) so no retransmission lingers.
    to = [line for line in data.split("\r\n") if line.lower().startswith("to:")][0]
    ack = ("ACK sip:+41445550100@sbc.customer.example SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:5073;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r\n"
           "From: <sip:+41445550999@pbx.lab.invalid>;tag=b\r\n%s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\n"
           "Content-Length: 0\r\n\r\n") % (cid[-12:], to, cid)
    s.sendto(ack.encode(), ("127.0.0.1", 5060))
times.sort()
print(json.dumps({"calls": calls, "codes": sorted(set(codes)), "median_ms": round(statistics.median(times), 1),
                  "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1), "max_ms": round(times[-1], 1)}))
'''


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default=os.environ.get("BYOC_LAB_PREFIX", "byoc-default"))
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    sbc = args.prefix + "-sbc"
    subprocess.run(["podman", "exec", "-i", sbc, "sh", "-c", "cat > /tmp/bench_call_setup.py"],
                   input=CLIENT.encode(), check=True, timeout=30)
    out = subprocess.run(["podman", "exec", sbc, "python3", "/tmp/bench_call_setup.py", str(args.calls)],
                         capture_output=True, text=True, timeout=30 + 15 * args.calls, check=True).stdout
    result = json.loads(out.splitlines()[-1])
    print("call set-up through %s (INVITE -> final reply, %d calls, replies %s): median %.1f ms, p90 %.1f ms, "
          "max %.1f ms" % (sbc, result["calls"], "/".join(result["codes"]), result["median_ms"], result["p90_ms"],
                           result["max_ms"]))


if __name__ == "__main__":
    main()
