#!/usr/bin/python3
"""Accept-and-discard SMTP server for the PMTU lab.

Usage: /usr/bin/python3 sink.py ADDR [ADDR...]
Listens on port 25 of every ADDR (IPv4 or IPv6 literal), accepts every
message and throws it away (aiosmtpd's default 250 reply to DATA).
Prints "ready" once all listeners are bound; SIGTERM (default action)
ends it at once, even with a black-holed session still open.
"""
import asyncio
import sys

from aiosmtpd.smtp import SMTP


class Discard:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok: discarded"


async def main(addrs):
    loop = asyncio.get_running_loop()
    servers = []
    for addr in addrs:
        servers.append(await loop.create_server(
            lambda: SMTP(Discard(), hostname="mx.example.net"),
            host=addr, port=25))
    print("ready", flush=True)
    await asyncio.Event().wait()   # serve until killed


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1:]))
