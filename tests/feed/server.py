#!/usr/bin/env python3
"""Stand-in for the grid-intensity providers, on 127.0.0.1 only, for
tests/feed/run.sh. Answers in each provider's documented shape (RTE/ODRE
explore v2.1 records, Electricity Maps v3, UK Carbon Intensity) from the
case named by the first path segment: http://127.0.0.1:PORT/CASE/<provider
path>. Writes its port to PORTFILE, one JSON line per request to LOGFILE.
Case e-live is a feed that advances (tests/integration/17_grid_feed.sh, make
demo SITES=): it publishes the quarter hours from FROM to UNTIL (UTC epochs,
both included) that LIVEFILE, the optional third argument, holds as "FROM
UNTIL", re-read at every request; quarter t (epoch) is worth live_value(t).
With FEED_TLS_CERT (a PEM file holding the certificate and its key) in the
environment it answers HTTPS with that certificate instead."""
import datetime as dt
import json
import os
import re
import ssl
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTFILE, LOGFILE = sys.argv[1], sys.argv[2]
LIVEFILE = sys.argv[3] if len(sys.argv) > 3 else None
UTC = dt.timezone.utc
CET, CEST = dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=2))
hits = {}


def paris(t):
    """French legal time of a UTC instant (EU rules)."""
    def last_sunday(y, m):
        d = dt.datetime(y, m + 1, 1, 1, tzinfo=UTC) - dt.timedelta(days=1)
        return d - dt.timedelta(days=(d.weekday() + 1) % 7)
    summer = last_sunday(t.year, 3) <= t < last_sunday(t.year, 10)
    return t.astimezone(CEST if summer else CET)


def quarters(start, n, value=lambda i: 20 + i % 40):
    """eco2mix records every 15 min from start (UTC), offsets as RTE writes them."""
    out = []
    for i in range(n):
        t = start + dt.timedelta(minutes=15 * i)
        out.append({"date_heure": paris(t).isoformat(), "taux_co2": value(i)})
    return out


def live_value(t):
    """gCO2e/kWh of quarter t: a different value for neighbouring quarters."""
    return 100 + 10 * ((t // 900) % 8)


def live_records():
    try:
        lo, hi = (int(x) for x in open(LIVEFILE).read().split())
    except (OSError, TypeError, ValueError):
        return []
    lo += -lo % 900
    return [{"date_heure": paris(dt.datetime.fromtimestamp(t, UTC)).isoformat(),
             "taux_co2": live_value(t)} for t in range(lo, hi + 1, 900)]


def eco2mix_records(case):
    jan = dt.datetime(2024, 1, 15, tzinfo=UTC)
    if case in ("e-page", "e-429", "e-proxy", "e-503x2"):
        return quarters(jan, 250)
    if case == "e-revised":  # the 300 of e-more, now other values, and 10 new
        return quarters(jan, 310, lambda i: 20 + i % 40 if i >= 300 else 900 + i % 40)
    if case == "e-more":
        return quarters(jan, 300)
    if case == "e-live":
        return live_records()
    if case == "e-dst":  # 2024-10-27: 02:00-02:59 local twice
        return quarters(dt.datetime(2024, 10, 26, 22, tzinfo=UTC), 24)
    if case == "e-dup":
        r = quarters(jan, 8)
        r.insert(3, dict(r[2]))                       # same value
        r.insert(6, dict(r[5], taux_co2=999))         # another value
        return r
    if case == "e-gap":
        r = quarters(jan, 12)
        del r[4:7]                                    # 3 quarters missing
        for x in r[-2:]:
            x["taux_co2"] = None                      # not published yet
        return r
    return []


def filter_where(records, where):
    m = re.search(r'date_heure\s*(>=?)\s*"([^"]+)"', where or "")
    if not m:
        return records
    since = dt.datetime.fromisoformat(m.group(2).replace("Z", "+00:00"))
    keep = []
    for r in records:
        t = dt.datetime.fromisoformat(r["date_heure"])
        if (t > since) if m.group(1) == ">" else (t >= since):
            keep.append(r)
    return keep


def em_history(case):
    start = dt.datetime(2024, 6, 1, tzinfo=UTC)
    hist = []
    for i in range(24):
        t = start + dt.timedelta(hours=i)
        hist.append({"zone": "FR", "carbonIntensity": 30 + i,
                     "datetime": t.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                     "updatedAt": "2024-06-02T00:05:00.000Z",
                     "createdAt": "2024-05-29T00:00:00.000Z",
                     "emissionFactorType": "lifecycle",
                     "isEstimated": i >= 22,
                     "estimationMethod": "TIME_SLICER_AVERAGE" if i >= 22 else None})
    return hist


def uk_data(regional):
    start = dt.datetime(2024, 3, 31, 0, tzinfo=UTC)
    data = []
    for i in range(12):
        a = start + dt.timedelta(minutes=30 * i)
        b = a + dt.timedelta(minutes=30)
        rec = {"from": a.strftime("%Y-%m-%dT%H:%MZ"), "to": b.strftime("%Y-%m-%dT%H:%MZ")}
        if regional:
            rec["intensity"] = {"forecast": 100 + i, "index": "moderate"}
            rec["generationmix"] = [{"fuel": "gas", "perc": 40.1}, {"fuel": "wind", "perc": 30.2}]
        else:
            rec["intensity"] = {"forecast": 200 + i, "actual": None if i >= 10 else 190 + i,
                                "index": "moderate"}
        data.append(rec)
    return data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body, headers=()):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        path, proxied = self.path, False
        if path.startswith("http://"):  # absolute form: we are the proxy
            proxied = True
            path = "/" + path.split("/", 3)[3]
        url = urllib.parse.urlsplit(path)
        parts = url.path.split("/")
        case, rest = parts[1], "/" + "/".join(parts[2:])
        q = urllib.parse.parse_qs(url.query)
        n = hits[case] = hits.get(case, 0) + 1
        with open(LOGFILE, "a") as f:
            f.write(json.dumps({"case": case, "path": rest, "query": url.query,
                                "auth": self.headers.get("auth-token"),
                                "proxied": proxied, "n": n}) + "\n")
        if case.startswith("e-"):
            return self.eco2mix(case, q, n)
        if case.startswith("m-"):
            return self.electricitymaps(case, rest)
        if case.startswith("u-"):
            return self.uk(case, rest)
        self.send(404, {"error": "no such case"})

    def eco2mix(self, case, q, n):
        err = {"error_code": "ODSQLError", "message": "ODSQL query is malformed: where"}
        if case == "e-503":
            return self.send(503, b"<html><body>503 Service Unavailable</body></html>")
        if case == "e-429" and n == 1:
            return self.send(429, {"errorcode": 10002, "reset_time": "2024-01-16T00:00:00Z",
                                   "limit_time_unit": "day", "call_limit": 10000,
                                   "error": "Too many requests on the domain. Please contact the domain administrator."},
                             [("Retry-After", "1")])
        if case == "e-400":
            return self.send(400, err)
        if case == "e-slow":
            time.sleep(5)
        if case == "e-bad":
            return self.send(200, b'{"total_count": 3, "results": [{"date_heure": "2024-01-15T01:00:00+01:00", "taux_co2": 2')
        if case == "e-big":
            return self.send(200, b'{"total_count": 0, "results": []' + b" " * (9 << 20) + b"}")
        if case == "e-503x2" and n <= 2:
            return self.send(503, b"<html><body>503 Service Unavailable</body></html>")
        recs = eco2mix_records(case)
        if case != "e-revised":  # a revision comes whatever was asked
            recs = filter_where(recs, q.get("where", [""])[0])
        off, lim = int(q.get("offset", ["0"])[0]), int(q.get("limit", ["10"])[0])
        if lim > 100 or off + lim > 10000:
            return self.send(400, err)
        self.send(200, {"total_count": len(recs), "results": recs[off:off + lim]})

    def electricitymaps(self, case, rest):
        if self.headers.get("auth-token") != "test-token-123":
            return self.send(401, {"error": "Invalid authentication credentials"})
        hist = em_history(case)
        if rest.startswith("/v3/carbon-intensity/history"):
            return self.send(200, {"zone": "FR", "history": hist})
        if rest.startswith("/v3/carbon-intensity/latest"):
            t = dt.datetime(2024, 6, 2, 0, tzinfo=UTC)
            return self.send(200, {"zone": "FR", "carbonIntensity": 61,
                                   "datetime": t.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                   "updatedAt": "2024-06-02T00:05:00.000Z",
                                   "emissionFactorType": "lifecycle",
                                   "isEstimated": True,
                                   "estimationMethod": "TIME_SLICER_AVERAGE"})
        self.send(404, {"error": "not found"})

    def uk(self, case, rest):
        if rest.startswith("/regional/intensity/"):
            m = re.match(r"/regional/intensity/[^/]+/[^/]+/regionid/(\d+)$", rest)
            if not m:
                return self.send(400, {"error": {"code": "400 Bad Request",
                                                 "message": "Please enter a valid region id"}})
            return self.send(200, {"data": [{"regionid": int(m.group(1)), "dnoregion": "UKPN London",
                                             "shortname": "London", "data": uk_data(True)}]})
        if rest.startswith("/intensity/"):
            return self.send(200, {"data": uk_data(False)})
        self.send(400, {"error": {"code": "400 Bad Request", "message": "Please enter a valid date"}})


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if os.environ.get("FEED_TLS_CERT"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.environ["FEED_TLS_CERT"])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
