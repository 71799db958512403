"""Drives sandserve's XML-RPC API with Python's own xmlrpc.client, as a real client would.

usage: client.py URL ROOT   (ROOT: the served directory, to compare against)
Prints one line per check and exits non-zero on the first failure.
"""

import datetime
import http.client
import os
import sys
import urllib.parse
import xmlrpc.client

url, root = sys.argv[1], sys.argv[2]
proxy = xmlrpc.client.ServerProxy(url + "/RPC2", allow_none=True)
checks = 0


def check(name, condition):
    global checks
    if not condition:
        print(f"FAIL {name}", flush=True)
        sys.exit(1)
    checks += 1
    print(f"ok {name}", flush=True)


def fault(call):
    try:
        call()
    except xmlrpc.client.Fault as f:
        return f.faultCode
    return None


methods = proxy.system.listMethods()
# Exactly these: files.* has no write method (the test serves with --upload).
check("listMethods", sorted(methods) == [
    "files.list", "files.read", "files.stat",
    "system.listMethods", "system.methodHelp", "system.methodSignature", "system.multicall",
])
check("methodHelp", "16 MiB" in proxy.system.methodHelp("files.read"))
check("methodSignature", proxy.system.methodSignature("files.stat") == [["struct", "string"]])

entries = proxy.files.list("/")
names = [e["name"] for e in entries]
check("list names", names == ["docs", "big.bin", "hello.txt"])
check("list no dot-files", ".env" not in names)
hello = next(e for e in entries if e["name"] == "hello.txt")
st = os.stat(os.path.join(root, "hello.txt"))
check("list size", hello["size"] == st.st_size and hello["type"] == "file")
check("list modified", isinstance(hello["modified"], xmlrpc.client.DateTime))
check("stat dir", proxy.files.stat("docs")["type"] == "dir")
check("read whole", proxy.files.read("/hello.txt").data == b"hello, xml-rpc\n")
check("read at offset", proxy.files.read("/hello.txt", 7, 3).data == b"xml")
check("read past end", proxy.files.read("/hello.txt", 1000).data == b"")
big = os.path.getsize(os.path.join(root, "big.bin"))
check("big size needs i8", proxy.files.stat("/big.bin")["size"] == big)
with open(os.path.join(root, "big.bin"), "rb") as f:
    f.seek(big - 10)
    tail = f.read()
check("read big tail", proxy.files.read("/big.bin", big - 10, 10).data == tail)

check("fault not found", fault(lambda: proxy.files.stat("/missing")) == 1)
check("fault is a directory", fault(lambda: proxy.files.read("/docs")) == 2)
check("fault bad arguments", fault(lambda: proxy.files.list()) == 4)
check("fault bad type", fault(lambda: proxy.files.read("/hello.txt", "x")) == 4)
check("fault too large", fault(lambda: proxy.files.read("/big.bin")) == 5)
check("fault unknown method", fault(lambda: proxy.no.such.method()) == 7)
check("fault not a directory", fault(lambda: proxy.files.list("/hello.txt")) == 8)
check("fault hidden", fault(lambda: proxy.files.read("/.env")) == 1)
# Python writes dateTime as YYYYMMDDTHH:MM:SS, the one form the server reads: the document
# parses, and only the argument's type is wrong (4, not 6 for a malformed request).
when = datetime.datetime(2023, 11, 14, 22, 13, 20)
check("dateTime argument is read, then refused", fault(lambda: proxy.files.stat(when)) == 4)
for attack in ["../canary.txt", "/../canary.txt", "/docs/../../canary.txt", "%2e%2e/canary.txt",
               "..\\canary.txt", "/docs/escape/canary.txt", "/escape.txt", "a\x00b"]:
    try:
        got = proxy.files.read(attack).data
        check(f"traversal {attack!r}", b"CANARY" not in got)
    except xmlrpc.client.Fault as f:
        check(f"traversal {attack!r} is a fault", f.faultCode == 1)

multi = xmlrpc.client.MultiCall(proxy)
multi.files.read("/hello.txt", 0, 5)
multi.files.stat("/missing")
multi.system.listMethods()
results = multi()
check("multicall first", results[0].data == b"hello")
try:
    results[1]
    check("multicall fault", False)
except xmlrpc.client.Fault as f:
    check("multicall fault", f.faultCode == 1)
check("multicall third", "files.read" in results[2])

parts = urllib.parse.urlsplit(url)


def raw_post(body, headers=None):
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("POST", "/RPC2", body=body, headers=headers or {"Content-Type": "text/xml"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


status, data = raw_post(b"<methodCall><methodName>files.list")
check("malformed xml is a fault, not a 500", status == 200 and b"<fault>" in data and b"<int>6</int>" in data)
status, data = raw_post(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                        b"<methodCall><methodName>&e;</methodName></methodCall>")
check("external entity refused", status == 200 and b"<fault>" in data and b"root:" not in data)
# Declare an oversize body but send none of it: the server must refuse it unread, from the
# length alone (sending it all would race the server's early close into a broken pipe).
conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
conn.putrequest("POST", "/RPC2")
conn.putheader("Content-Type", "text/xml")
conn.putheader("Content-Length", str((1 << 20) + 1))
conn.endheaders()
response = conn.getresponse()
response.read()
conn.close()
check("oversize body is 413, refused unread", response.status == 413)

conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
conn.request("GET", "/RPC2")
response = conn.getresponse()
page = response.read().decode()
check("documentation page", response.status == 200 and all(m in page for m in methods))
print(f"xmlrpc: {checks} passed, 0 failed")
