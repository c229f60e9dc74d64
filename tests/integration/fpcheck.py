#!/usr/bin/python3
"""Independent checks of a job's footprint for the integration tests: the
JWS is verified with python3-jwt (not our libjwt code), and every figure is
recomputed by hand from the test's own signals and sacct's step energies.

usage: fpcheck.py check  TOKEN PUBKEY SACCT_JSON CONF_JSON
       fpcheck.py forge  PUBKEY OUT_NONE OUT_HS256   (forged tokens)
       fpcheck.py payload TOKEN PUBKEY               (prints the payload)
Exit 0 when every check holds; prints one line per fault otherwise."""
import calendar
import json
import sys
import time

import jwt


def ts(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%S"))


def decode(token, pubkey):
    with open(pubkey, "rb") as f:
        key = f.read()
    return jwt.decode(token, key, algorithms=["ES256", "RS256"],
                      options={"verify_aud": False})


def intensity_at(series, t):
    hour = t - t % 3600
    return series[str(hour)]


def spread(e, start, end, series):
    """g per kWh-weighted: energy spread uniformly over [start, end]."""
    if end <= start:
        return e / 3.6e6 * intensity_at(series, start)
    total, t = 0.0, start
    while t < end:
        nxt = min(end, t - t % 3600 + 3600)
        total += e * (nxt - t) / (end - start) / 3.6e6 * intensity_at(series, t)
        t = nxt
    return total


def close(what, got, want, faults, rel=0.01, absolute=0.002):
    if abs(got - want) > rel * abs(want) + absolute:
        faults.append(f"{what}: summary {got} vs hand {want}")


def check(token, pubkey, sacct_path, conf_path):
    faults = []
    summary = decode(token, pubkey)
    with open(sacct_path) as f:
        acct = json.load(f)
    with open(conf_path) as f:
        conf = json.load(f)
    series = conf["intensity"]
    steps = acct["steps"]
    e = sum(s["energy_j"] for s in steps)
    op = sum(spread(s["energy_j"], s["start"], s["end"], series) * conf["pue"]
             for s in steps)
    ref_op = sum(spread(s["energy_j"], s["start"], s["end"], series)
                 * conf["ref_pue"] for s in steps)
    avoided = e / 3.6e6 * conf["pue"] * conf["recovery"] * conf["useful"] \
        * conf["displaced"]
    elapsed = acct["end"] - acct["start"]
    emb = conf["embodied_kg"] * 1000 / (conf["lifetime"] * 365.25 * 86400) \
        * elapsed * acct["cpus"] / conf["node_cpus"]
    c = summary["carbon"]
    close("energy Wh", summary["energy"]["it_Wh"], e / 3600, faults)
    close("operational", c["operational"], op, faults)
    close("embodied", c["embodied"], emb, faults)
    close("footprint", c["footprint"], op + emb, faults)
    close("avoided", c["avoided_heat_reuse"], avoided, faults)
    close("net", c["net"], op + emb - avoided, faults)
    close("reference", c["reference"], ref_op + emb, faults)
    if summary["job"]["id"] != acct["job"]:
        faults.append(f"job id {summary['job']['id']} != {acct['job']}")
    if summary["energy"]["source"] != conf["source"]:
        faults.append(f"energy source {summary['energy']['source']}")
    if not summary["complete"]:
        faults.append(f"incomplete: {summary['incomplete']}")
    # The job record must agree with the summary.
    rec = acct.get("admin_comment", "")
    i = rec.find("FP1:")
    if i < 0:
        faults.append(f"no FP1 record in AdminComment {rec!r}")
    else:
        r, _ = json.JSONDecoder().raw_decode(rec[i + 4:])
        close("record Wh", r["Wh"], summary["energy"]["facility_Wh"], faults)
        close("record g", r["g"], c["footprint"], faults)
        close("record avoid", r["avoid"], c["avoided_heat_reuse"], faults)
        close("record net", r["net"], c["net"], faults)
        close("record ref", r["ref"], c["reference"], faults)
    for f in faults:
        print(f"job {acct['job']}: {f}")
    print(f"# job {acct['job']}: {e:.0f} J, footprint {c['footprint']} g "
          f"(hand {op + emb:.3f}), avoided {c['avoided_heat_reuse']} g, "
          f"reference {c['reference']} g")
    return 1 if faults else 0


def forge(pubkey, out_none, out_hs):
    with open(pubkey, "rb") as f:
        key = f.read()
    payload = {"schema_version": 1, "job": {"id": 1}, "forged": True}
    with open(out_none, "w") as f:
        f.write(jwt.encode(payload, None, algorithm="none"))
    # PyJWT refuses a PEM as HMAC secret; sign by hand as an attacker would.
    import base64
    import hashlib
    import hmac

    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(payload).encode())
    sig = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    with open(out_hs, "w") as f:
        f.write(f"{head}.{body}.{b64(sig)}")
    return 0


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "check":
        with open(sys.argv[2]) as f:
            token = f.read().strip()
        try:
            return check(token, sys.argv[3], sys.argv[4], sys.argv[5])
        except jwt.PyJWTError as e:
            print(f"signature rejected by python3-jwt: {e}")
            return 1
    if len(sys.argv) == 5 and sys.argv[1] == "forge":
        return forge(sys.argv[2], sys.argv[3], sys.argv[4])
    if len(sys.argv) == 4 and sys.argv[1] == "payload":
        with open(sys.argv[2]) as f:
            token = f.read().strip()
        try:
            print(json.dumps(decode(token, sys.argv[3])))
            return 0
        except jwt.PyJWTError as e:
            print(f"rejected: {e}", file=sys.stderr)
            return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
