#!/usr/bin/python3
"""Independent checks of a job's footprint for the integration tests: the
JWS is verified with python3-jwt (not our libjwt code), and every figure is
recomputed by hand from the test's own signals and sacct's step energies.

usage: fpcheck.py check  TOKEN PUBKEY SACCT_JSON CONF_JSON
       fpcheck.py sites  TOKEN PUBKEY SACCT_JSON SITES_JSON
                         (multi-site: per-node split, per node and per site)
       fpcheck.py whatif WHATIF_JSON SUMMARY_TOKEN PUBKEY SITES_JSON HOURS
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


def split(step):
    """Per-node energy of a step from what sacct shows: one node exact; the
    max and min nodes their values; the rest share what remains by CPUs."""
    nodes, e = step["nodes"], step["energy_j"]
    if len(nodes) == 1:
        return {nodes[0]: float(e)}, "exact"
    known = {}
    for k in ("max", "min"):
        if step.get(k) and step[k]["node"] in nodes:
            known[step[k]["node"]] = float(step[k]["energy_j"])
    rest = [n for n in nodes if n not in known]
    name = "cpus" if not known else "exact" if not rest else "min-max+cpus"
    left = max(0.0, e - sum(known.values()))
    out = dict(known)
    for n in rest:  # the worker spreads a step's CPUs evenly over its nodes
        out[n] = left / len(rest)
    return out, name


def check_sites(token, pubkey, sacct_path, sites_path):
    faults = []
    summary = decode(token, pubkey)
    with open(sacct_path) as f:
        acct = json.load(f)
    with open(sites_path) as f:
        conf = json.load(f)
    node_site = conf["nodes"]
    per_node = {}
    splits = {}
    for st in acct["steps"]:
        shares, name = split(st)
        splits[st["id"]] = name
        for n, e in shares.items():
            site = conf["sites"][node_site[n]]
            d = per_node.setdefault(n, dict(e=0.0, op=0.0, avoided=0.0,
                                            ref=0.0))
            d["e"] += e
            d["op"] += spread(e, st["start"], st["end"],
                              site["intensity"]) * site["pue"]
            d["ref"] += spread(e, st["start"], st["end"],
                               site["intensity"]) * conf["ref_pue"]
            d["avoided"] += e / 3.6e6 * site["pue"] * site["recovery"] \
                * site["useful"] * site["displaced"]
    elapsed = acct["end"] - acct["start"]
    cpus_per_node = max(1, acct["cpus"] // len(acct["nodes"]))
    for n in acct["nodes"]:
        d = per_node.setdefault(n, dict(e=0.0, op=0.0, avoided=0.0,
                                        ref=0.0))
        d["emb"] = conf["embodied_kg"] * 1000 / (conf["lifetime"] * 365.25
                                                 * 86400) \
            * elapsed * cpus_per_node / conf["node_cpus"]
    got_nodes = {n["name"]: n for n in summary.get("nodes", [])}
    for n, d in sorted(per_node.items()):
        g = got_nodes.get(n)
        if not g:
            faults.append(f"node {n} missing from the summary")
            continue
        if g["site"] != node_site[n]:
            faults.append(f"node {n}: site {g['site']} != {node_site[n]}")
        close(f"node {n} energy Wh", g["energy_it_Wh"], d["e"] / 3600, faults)
        close(f"node {n} operational", g["operational_g"], d["op"], faults)
        close(f"node {n} avoided", g["avoided_g"], d["avoided"], faults)
        close(f"node {n} embodied", g["embodied_g"], d.get("emb", 0), faults)
    got_sites = {s["name"]: s for s in summary.get("sites", [])}
    lines = []
    for site in sorted(set(node_site[n] for n in per_node)):
        ns = [n for n in per_node if node_site[n] == site]
        e = sum(per_node[n]["e"] for n in ns)
        op = sum(per_node[n]["op"] for n in ns)
        av = sum(per_node[n]["avoided"] for n in ns)
        emb = sum(per_node[n].get("emb", 0) for n in ns)
        pue = conf["sites"][site]["pue"]
        intensity = op / (e * pue / 3.6e6) if e > 0 else None
        g = got_sites.get(site)
        if not g:
            faults.append(f"site {site} missing from the summary")
            continue
        close(f"site {site} energy Wh", g["energy_it_Wh"], e / 3600, faults)
        close(f"site {site} operational", g["operational_g"], op, faults)
        close(f"site {site} avoided", g["avoided_g"], av, faults)
        close(f"site {site} embodied", g["embodied_g"], emb, faults)
        if intensity is not None:
            close(f"site {site} intensity", g["intensity_gco2e_per_kwh"],
                  intensity, faults)
        lines.append(f"# job {acct['job']} {site}: {e / 3600:.4f} Wh, "
                     f"intensity {g['intensity_gco2e_per_kwh']} "
                     f"(hand {intensity if intensity is None else round(intensity, 3)}), "
                     f"operational {g['operational_g']} g (hand {op:.3f}), "
                     f"avoided {g['avoided_g']} g (hand {av:.3f})")
    tot_e = sum(d["e"] for d in per_node.values())
    tot = sum(d["op"] + d.get("emb", 0) for d in per_node.values())
    close("energy Wh", summary["energy"]["it_Wh"], tot_e / 3600, faults)
    close("footprint", summary["carbon"]["footprint"], tot, faults)
    close("avoided", summary["carbon"]["avoided_heat_reuse"],
          sum(d["avoided"] for d in per_node.values()), faults)
    got_splits = {s["id"]: s["split"] for s in summary.get("steps", [])}
    for sid, name in splits.items():
        if got_splits.get(sid) != name:
            faults.append(f"step {sid}: split {got_splits.get(sid)} != "
                          f"{name}")
    for f in faults:
        print(f"job {acct['job']}: {f}")
    for line in lines:
        print(line)
    print(f"# job {acct['job']}: splits {splits}")
    return 1 if faults else 0


def check_whatif(whatif_path, token, pubkey, sites_path, hours):
    """The best option of `sfootprint whatif` against every (site, hour)
    computed by hand from the test's series."""
    faults = []
    summary = decode(token, pubkey)
    with open(whatif_path) as f:
        w = json.load(f)
    with open(sites_path) as f:
        conf = json.load(f)
    e = summary["energy"]["it_Wh"] * 3600
    elapsed = summary["job"]["elapsed_s"]
    emb = summary["carbon"]["embodied"]
    start = ts(summary["job"]["start"][:19])
    first = start - hours * 3600
    first += (-first) % 3600
    starts = list(range(first, start + hours * 3600 + 1, 3600))
    if start not in starts:
        starts.append(start)
    best = None
    for name, site in conf["sites"].items():
        for t in starts:
            try:
                op = spread(e, t, t + int(round(elapsed)),
                            site["intensity"]) * site["pue"]
            except KeyError:
                continue  # the series does not cover that run
            if best is None or op + emb < best[0]:
                best = (op + emb, name, t)
    got = w["best"][0]
    close("what-if best footprint", got["footprint_g"], best[0], faults)
    if got["site"] != best[1]:
        faults.append(f"what-if best site {got['site']} != {best[1]}")
    for f in faults:
        print(f"what-if: {f}")
    print(f"# what-if best: {got['site']} at {got['start']}, "
          f"{got['footprint_g']:.3f} g (hand {best[1]} "
          f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(best[2]))} "
          f"{best[0]:.3f} g)")
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
    if (len(sys.argv), sys.argv[1:2]) in ((6, ["sites"]), (7, ["whatif"])):
        with open(sys.argv[2 if sys.argv[1] == "sites" else 3]) as f:
            token = f.read().strip()
        try:
            if sys.argv[1] == "sites":
                return check_sites(token, sys.argv[3], sys.argv[4],
                                   sys.argv[5])
            return check_whatif(sys.argv[2], token, sys.argv[4],
                                sys.argv[5], int(sys.argv[6]))
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
