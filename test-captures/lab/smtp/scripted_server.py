#!/usr/bin/python3
"""Scripted SMTP-like server for the smtp-delivery test captures.

It speaks just enough SMTP for swaks and rawclient.py, and answers from the
tables below.  Which table entry a connection gets is decided by the local
(server) address the client connected to: every entry has its own address,
so the captures are reproducible whatever the order of sessions.

    scripted_server.py vendor|malformed  [--port 25] [--lifetime 120]

Table entry keys:
  addr      server address the entry listens on (in sdsmtp-srv)
  name      short label (also printed in the log)
  banner    greeting reply (default: 220 <host> ESMTP)
  replies   {VERB: reply} overriding the defaults; VERB is the upper-cased
            first word of the command; "." means "end of DATA".
  close     set of VERBs after whose reply the server closes the connection
            ("BANNER" = close right after the greeting).

A reply is either
  str                 - lines separated by "\n"; each line is sent with CRLF
  bytes               - sent exactly as given (for odd line endings)
  Split([b"..", ..])  - sent as separate writes with a short pause between,
                        so each part leaves in its own TCP segment
"""
import argparse
import asyncio
import base64
import sys


class Split:
    def __init__(self, parts, pause=0.2):
        self.parts = parts
        self.pause = pause


HOST = "mx.example.com"
CLIENT = "192.0.2.10"

DEFAULTS = {
    "EHLO": "250-%s Hello [%s]\n250-SIZE 36700160\n250-PIPELINING\n"
            "250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-AUTH PLAIN LOGIN\n"
            "250 SMTPUTF8" % (HOST, CLIENT),
    "HELO": "250 %s Hello [%s]" % (HOST, CLIENT),
    "MAIL": "250 2.1.0 Sender OK",
    "RCPT": "250 2.1.5 Recipient OK",
    "DATA": "354 Start mail input; end with <CRLF>.<CRLF>",
    ".": "250 2.6.0 Queued mail for delivery",
    "RSET": "250 2.0.0 Resetting",
    "NOOP": "250 2.0.0 OK",
    "QUIT": "221 2.0.0 Service closing transmission channel",
    "AUTH": "235 2.7.0 Authentication successful",
    "*": "500 5.3.3 Unrecognized command",
}

# ------------------------------------------------------------------ vendor
# Replies seen from real products and providers (texts from the field
# material in the shared seeds and reference/smtp-codes.md).
VENDOR = [
    dict(addr="198.51.100.101", name="groupwise-420-tcp-write-error",
         banner="220 gwia.example.com [ESMTP Server] service ready;ESMTP Server",
         replies={"EHLO": "250 ok", "MAIL": "250 Sender OK",
                  "RCPT": "250 Recipient OK",
                  "DATA": "354 Start mail input; end with <CRLF>.<CRLF>",
                  ".": "420 TCP write error"}),
    dict(addr="198.51.100.102", name="exchange-421-4.3.2-not-available",
         banner="220 mail.example.com Microsoft ESMTP MAIL Service ready",
         replies={"EHLO": "421 4.3.2 Service not available, closing transmission channel"},
         close={"EHLO"}),
    dict(addr="198.51.100.103", name="exchange-451-4.4.7-message-delayed",
         banner="220 mail.example.com Microsoft ESMTP MAIL Service ready",
         replies={".": "451 4.4.7 Message delayed"}),
    dict(addr="198.51.100.104", name="exchange-451-4.4.9-routing",
         banner="220 mail.example.com Microsoft ESMTP MAIL Service ready",
         replies={"RCPT": "451 4.4.9 Temporary routing error, check smart host configuration"}),
    dict(addr="198.51.100.105", name="exchange-451-4.6.5-code-page",
         banner="220 mail.example.com Microsoft ESMTP MAIL Service ready",
         replies={".": "451 4.6.5 Code page unavailable on the recipient server"}),
    dict(addr="198.51.100.106", name="m365-550-5.7.606-banned-ip",
         banner="220 EX1.mail.protection.outlook.example Microsoft ESMTP MAIL Service ready",
         replies={"MAIL": "550 5.7.606 Access denied, banned sending IP [192.0.2.10]. "
                          "To request removal from this list please visit "
                          "https://sender.office.com/ and follow the directions."}),
    dict(addr="198.51.100.107", name="m365-451-4.7.500-server-busy",
         banner="220 EX1.mail.protection.outlook.example Microsoft ESMTP MAIL Service ready",
         replies={"RCPT": "451 4.7.500 Server busy. Please try again later from [192.0.2.10]. (S77719)"}),
    dict(addr="198.51.100.108", name="gmail-421-4.7.0-rate-limited",
         banner="220 mx.google.example ESMTP gsmtp",
         replies={".": "421-4.7.0 [192.0.2.10] Our system has detected an unusual rate of\n"
                       "421-4.7.0 unsolicited mail originating from your IP address. To protect our\n"
                       "421 4.7.0 users from spam, mail sent from your IP address has been temporarily rate limited."},
         close={"."}),
    dict(addr="198.51.100.109", name="gmail-550-5.7.1-unsolicited",
         banner="220 mx.google.example ESMTP gsmtp",
         replies={".": "550-5.7.1 [192.0.2.10] Our system has detected that this message is\n"
                       "550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\n"
                       "550-5.7.1 this message has been blocked. For more information, go to\n"
                       "550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError - gsmtp"}),
    dict(addr="198.51.100.110", name="gmail-452-4.2.2-over-quota",
         banner="220 mx.google.example ESMTP gsmtp",
         replies={"RCPT": "452-4.2.2 The email account that you tried to reach is over quota. Please direct\n"
                          "452-4.2.2 the recipient to\n"
                          "452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp - gsmtp"}),
    dict(addr="198.51.100.111", name="bigpond-421-message-rejected",
         banner="220 esmtp server ready wed,6 feb 2008 22:32",
         replies={"EHLO": "250 ok", "MAIL": "421 message rejected"},
         close={"MAIL"}),
    dict(addr="198.51.100.112", name="exchange-421-4.0.0-server-error",
         banner="421 4.0.0 Server error", close={"BANNER"}),
    dict(addr="198.51.100.113", name="dnsbl-554-5.7.1-blocked-using",
         banner="220 mx.example.com ESMTP",
         replies={"RCPT": "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using "
                          "bl.spamcop.example; Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.10"}),
    dict(addr="198.51.100.114", name="postfix-550-5.7.1-no-reverse-hostname",
         banner="220 mx.example.com ESMTP",
         replies={"RCPT": "550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.10]"}),
    dict(addr="198.51.100.115", name="452-4.3.1-insufficient-storage",
         banner="220 mx.example.com ESMTP",
         replies={"MAIL": "452 4.3.1 Insufficient system storage"}),
    dict(addr="198.51.100.116", name="552-5.2.2-mailbox-full",
         banner="220 mx.example.com ESMTP",
         replies={".": "552 5.2.2 Mailbox full"}),
    dict(addr="198.51.100.117", name="451-4.7.1-greylisting",
         banner="220 mx.example.com ESMTP",
         replies={"RCPT": "451 4.7.1 Greylisting in action, please come back later"}),
    dict(addr="198.51.100.118", name="450-4.7.1-rate-limit",
         banner="220 mx.example.com ESMTP",
         replies={"RCPT": "450 4.7.1 <alice@example.com>: Recipient address rejected: rate limit exceeded"}),
    dict(addr="198.51.100.119", name="535-5.7.8-auth-failed",
         banner="220 smtp.example.com ESMTP",
         replies={"AUTH": "535 5.7.8 Authentication credentials invalid"}),
    dict(addr="198.51.100.120", name="521-5.3.2-no-mail-here",
         banner="521 5.3.2 mx.example.com does not accept mail", close={"BANNER"}),
    dict(addr="198.51.100.121", name="yahoo-421-4.7.0-TSS04",
         banner="220 mta.example.com ESMTP ready",
         replies={"MAIL": "421 4.7.0 [TSS04] Messages from 192.0.2.10 temporarily deferred due to "
                          "unexpected volume or user complaints - 4.16.55.1; see "
                          "https://postmaster.yahooinc.com/error-codes"},
         close={"MAIL"}),
    dict(addr="198.51.100.122", name="exchange-432-4.3.2-storedrv",
         banner="220 mail.example.com Microsoft ESMTP MAIL Service ready",
         replies={".": "432 4.3.2 STOREDRV.Deliver; recipient thread limit exceeded"}),
]

# --------------------------------------------------------------- malformed
# Every session: normal banner, normal EHLO; the NOOP (or the banner) gets
# the odd reply; QUIT gets 221.
LONG = "250 2.0.0 " + "".join("long-reply-%04d " % i for i in range(200))
LONG = LONG[:2000]
MALFORMED = [
    dict(addr="198.51.100.201", name="no-code", replies={"NOOP": "hello there"}),
    dict(addr="198.51.100.202", name="code-699", replies={"NOOP": "699 weird"}),
    dict(addr="198.51.100.203", name="code-099", replies={"NOOP": "099 low"}),
    dict(addr="198.51.100.204", name="code-4-digits", replies={"NOOP": "2500 too long"}),
    dict(addr="198.51.100.205", name="enh-two-parts", replies={"NOOP": "550 5.1 bad"}),
    dict(addr="198.51.100.206", name="enh-class-6", replies={"NOOP": "550 6.1.1 bad class"}),
    dict(addr="198.51.100.207", name="enh-detail-4-digits",
         replies={"NOOP": "550 5.1.1000 detail too long"}),
    dict(addr="198.51.100.208", name="enh-class-2-on-550", replies={"NOOP": "550 2.1.1 mismatch"}),
    dict(addr="198.51.100.209", name="enh-class-5-on-250", replies={"NOOP": "250 5.0.0 mismatch"}),
    dict(addr="198.51.100.210", name="multiline-different-codes",
         replies={"NOOP": "250-first\n251 second"}),
    dict(addr="198.51.100.211", name="long-line-2000", replies={"NOOP": LONG}),
    dict(addr="198.51.100.212", name="bare-lf",
         replies={"NOOP": b"250 2.0.0 bare LF line ending\n"}),
    dict(addr="198.51.100.213", name="banner-no-code", banner="hello there"),
    dict(addr="198.51.100.214", name="multiline-bare-lf",
         replies={"NOOP": b"250-2.0.0 first line ends in LF\n250 2.0.0 second line ends in CRLF\r\n"}),
    dict(addr="198.51.100.215", name="code-only-no-text", replies={"NOOP": "250"}),
    dict(addr="198.51.100.216", name="code-space-no-text", replies={"NOOP": "250 "}),
    dict(addr="198.51.100.217", name="enh-code-no-text", replies={"NOOP": "550 5.1.1"}),
    # segmentation edge cases (well-formed replies, odd TCP segmentation)
    dict(addr="198.51.100.221", name="split-multiline-by-line",
         replies={"EHLO": Split([b"250-mx.example.com Hello [192.0.2.10]\r\n250-PIPELINING\r\n",
                                 b"250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n"]),
                  "NOOP": Split([b"450-4.7.1 first line of a two-segment reply\r\n",
                                 b"450 4.7.1 second line of a two-segment reply\r\n"])}),
    dict(addr="198.51.100.222", name="split-mid-line",
         replies={"NOOP": Split([b"451 4.3.0 Reply split in the mid", b"dle of its line\r\n"])}),
    dict(addr="198.51.100.223", name="split-between-cr-lf",
         replies={"NOOP": Split([b"452 4.2.2 Reply split between CR\r", b"\n"])}),
    dict(addr="198.51.100.224", name="two-replies-one-segment",
         replies={"NOOP": b"250 2.0.0 first reply\r\n250 2.0.0 unsolicited second reply\r\n"}),
]

TABLES = {"vendor": VENDOR, "malformed": MALFORMED}


def encode(reply):
    if isinstance(reply, bytes):
        return reply
    return "".join(line + "\r\n" for line in reply.split("\n")).encode("latin-1")


async def send(writer, reply):
    if isinstance(reply, Split):
        for i, part in enumerate(reply.parts):
            if i:
                await asyncio.sleep(reply.pause)
            writer.write(part)
            await writer.drain()
    else:
        writer.write(encode(reply))
        await writer.drain()


def make_handler(by_addr):
    async def handle(reader, writer):
        local = writer.get_extra_info("sockname")[0]
        entry = by_addr.get(local, {"name": "unknown"})
        replies = dict(DEFAULTS)
        replies.update(entry.get("replies", {}))
        close = entry.get("close", set())
        print("session %s (%s)" % (entry["name"], local), flush=True)
        try:
            await send(writer, entry.get("banner", "220 %s ESMTP" % HOST))
            if "BANNER" in close:
                return
            while True:
                line = await asyncio.wait_for(reader.readline(), 20)
                if not line:
                    return
                words = line.strip().split(None, 1)
                verb = words[0].decode("latin-1").upper() if words else ""
                if verb == "AUTH" and len(words) > 1 and b" " not in words[1].strip():
                    # AUTH LOGIN / AUTH PLAIN without initial response
                    mech = words[1].strip().upper()
                    steps = [b"VXNlcm5hbWU6", b"UGFzc3dvcmQ6"] if mech == b"LOGIN" else [b""]
                    for ch in steps:
                        writer.write(b"334 " + ch + b"\r\n")
                        await writer.drain()
                        if not await asyncio.wait_for(reader.readline(), 20):
                            return
                reply = replies.get(verb, replies["*"])
                await send(writer, reply)
                if verb in close or verb == "QUIT":
                    return
                if verb == "DATA" and str(reply)[:1] == "3":
                    while True:
                        dl = await asyncio.wait_for(reader.readline(), 20)
                        if not dl or dl in (b".\r\n", b".\n"):
                            break
                    if not dl:
                        return
                    await send(writer, replies["."])
                    if "." in close:
                        return
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
    return handle


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("table", choices=sorted(TABLES))
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--lifetime", type=float, default=120)
    ap.add_argument("--list", action="store_true",
                    help="print 'address name' per entry and exit")
    a = ap.parse_args()
    table = TABLES[a.table]
    if a.list:
        for e in table:
            print(e["addr"], e["name"])
        return
    by_addr = {e["addr"]: e for e in table}
    servers = [await asyncio.start_server(make_handler(by_addr), e["addr"], a.port)
               for e in table]
    print("listening: %d addresses" % len(servers), flush=True)
    await asyncio.sleep(a.lifetime)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
