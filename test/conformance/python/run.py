"""Drives the official ucloud-sdk-python3 against a running opencompshare.

Usage: run.py SCENARIO [JSON_ARGS]; env OCS_URL, OCS_PUBLIC_KEY, OCS_PRIVATE_KEY, and OCS_CA_CERT
(the CA of an HTTPS server, given to the SDK as ssl_cacert) when the server speaks HTTPS.
Prints one JSON object: {"ok": true, "resp": ...} or {"ok": false, "code": N, "message": "..."}.
The seed examples are reproduced here call for call (Client config, invoke vs typed methods).
"""
import json
import os
import sys

from ucloud.client import Client
from ucloud.core import exc


def client(private_key=None, public_key=None, max_retries=0):
    config = {
        "region": "cn-wlcb",
        "public_key": public_key or os.environ["OCS_PUBLIC_KEY"],
        "private_key": private_key or os.environ["OCS_PRIVATE_KEY"],
        "base_url": os.environ["OCS_URL"],
        "max_retries": max_retries,
    }
    if os.environ.get("OCS_CA_CERT"):
        config["ssl_cacert"] = os.environ["OCS_CA_CERT"]
    return Client(config)


def run(scenario, args):
    c = client(args.get("private_key"), args.get("public_key"), args.get("max_retries", 0))
    if scenario == "invoke":
        return c.invoke(args["action"], args.get("params", {}))
    if scenario == "ucompshare_invoke":
        return c.ucompshare().invoke(args["action"], args.get("params", {}))
    if scenario == "typed":
        method = getattr(c.ucompshare(), args["method"])
        return method(args.get("params", {}))
    if scenario == "project_id":
        # The seeds' "how to get ProjectId" snippet.
        resp = c.invoke("GetProjectList")
        return {"ProjectId": resp["ProjectSet"][0]["ProjectId"]}
    raise SystemExit("unknown scenario " + scenario)


def main():
    scenario = sys.argv[1]
    args = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    try:
        resp = run(scenario, args)
        print(json.dumps({"ok": True, "resp": resp}, default=str))
    except exc.RetCodeException as e:
        print(json.dumps({"ok": False, "code": e.code, "message": e.message}))
    except exc.UCloudException as e:
        print(json.dumps({"ok": False, "code": -1, "message": str(e)}))


if __name__ == "__main__":
    main()
