#!/usr/bin/python3
"""aiosmtpd server that requires STARTTLS and writes a TLS key log.

    tls_server.py ADDR PORT CERT KEY KEYLOG [--lifetime 60]

Accepted messages are discarded; the key log is embedded into the capture
with editcap --inject-secrets by make-smtp-captures.sh.
"""
import argparse
import asyncio
import ssl

from aiosmtpd.smtp import SMTP


class Discard:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Message accepted (%d bytes, discarded)" % len(envelope.content)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("cert")
    ap.add_argument("key")
    ap.add_argument("keylog")
    ap.add_argument("--lifetime", type=float, default=60)
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.keylog_filename = a.keylog
    handler = Discard()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="mx.example.net",
                     ident="aiosmtpd lab server", tls_context=ctx,
                     require_starttls=True),
        a.addr, a.port)
    print("listening on %s:%d" % (a.addr, a.port), flush=True)
    await asyncio.sleep(a.lifetime)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
