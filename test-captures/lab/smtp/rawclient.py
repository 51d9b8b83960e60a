#!/usr/bin/python3
"""Small raw SMTP client for the smtp-delivery test captures.

Sends commands exactly as written (including broken ones) and reads
whatever the server answers.  Every read is bounded: a reply is considered
complete when its last line is "NNN " / "NNN" + CRLF, or when the server
stays silent for IDLE seconds; each scenario has an overall deadline.

Usage:  rawclient.py SCENARIO HOST PORT [--src ADDR] [--keylog FILE]

Scenario names are the keys of SCENARIOS at the bottom of this file.
"""
import argparse
import re
import socket
import ssl
import sys
import time

IDLE = 0.6          # seconds of silence that end a reply we cannot parse
DEADLINE = 25.0     # hard limit per scenario (the caller also wraps us in timeout)

FINAL_LINE = re.compile(rb"(^|\n)\d{3}( [^\n]*)?\r?\n$")


class Session:
    def __init__(self, host, port, src=None, keylog=None):
        self.t0 = time.monotonic()
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if src:
            self.sock.bind((src, 0))
        self.sock.settimeout(5)
        self.sock.connect((host, port))
        self.keylog = keylog
        self.host = host

    def _left(self):
        left = DEADLINE - (time.monotonic() - self.t0)
        if left <= 0:
            raise TimeoutError("scenario deadline reached")
        return left

    def read(self, idle=IDLE, want_final=True):
        """Read one reply (or whatever arrives before the line goes idle)."""
        buf = b""
        while True:
            self.sock.settimeout(min(idle, self._left()))
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
            if want_final and FINAL_LINE.search(buf):
                break
        for line in buf.splitlines():
            print("S: " + line.decode("latin-1")[:200])
        return buf

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self._left()
        for line in data.split(b"\r\n")[:-1] or [data]:
            print("C: " + line.decode("latin-1")[:200])
        self.sock.sendall(data)

    def cmd(self, line, **kw):
        """Send one command line (CRLF added) and read the reply."""
        self.send(line + "\r\n")
        return self.read(**kw)

    def starttls(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if self.keylog:
            ctx.keylog_filename = self.keylog
        self.sock.settimeout(5)
        self.sock = ctx.wrap_socket(self.sock, server_hostname="mx.example.net")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def body(n_lines, width=70):
    lines = []
    for i in range(n_lines):
        text = "line %05d " % i
        text += ("abcdefghijklmnopqrstuvwxyz0123456789" * 3)[: width - len(text)]
        lines.append(text)
    return "\r\n".join(lines) + "\r\n"


HDR = ("From: <sender@example.org>\r\nTo: <alice@example.net>\r\n"
       "Subject: smtp-delivery test capture\r\n"
       "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
       "Message-Id: <capture-%s@client.example.org>\r\n\r\n")


# ---------------------------------------------------------------- scenarios
# Postfix on port 25 (198.51.100.10)

def pf_errors(s):
    """Bad commands and sequencing errors against Postfix."""
    s.read()                                   # 220 banner
    s.cmd("MAIL FROM:<sender@example.org>")    # 503 5.5.1 send HELO/EHLO first
    s.cmd("HELO")                              # 501 Syntax: HELO hostname
    s.cmd("EHLO client.example.org")           # 250- multi-line
    s.cmd("XYZZY")                             # 500 5.5.2 command not recognized
    s.cmd("HELP")                              # Postfix: 500 5.5.2 not recognized
    s.cmd("NOOP")                              # 250 2.0.0 Ok
    s.cmd("RCPT TO:<alice@example.net>")       # 503 5.5.1 need MAIL command
    s.cmd("DATA")                              # 503 5.5.1 need RCPT command
    s.cmd("MAIL FROM sender@example.org")      # 501 5.5.4 Syntax
    s.cmd("MAIL FROM:<sender with space@example.org>")  # 501 5.1.7
    s.cmd("MAIL FROM:<sender@example.org> FOO=BAR")     # 555 5.5.4
    s.cmd("MAIL FROM:<sender@example.org>")    # 250 2.1.0 Ok
    s.cmd("MAIL FROM:<sender@example.org>")    # 503 5.5.1 nested MAIL
    s.cmd("RCPT TO:<alice@@example.net>")      # 501 5.1.3 bad recipient syntax
    s.cmd("RCPT TO:<nobody-here@example.net>")  # 550 5.1.1
    s.cmd("DATA")                              # 554 5.5.1 no valid recipients
    s.cmd("RSET")                              # 250 2.0.0 Ok
    s.cmd("VRFY alice")                        # 252 2.0.0 alice
    s.cmd("VRFY nobody-here")                  # 550 5.1.1
    s.cmd("ETRN example.net")                  # 459 <example.net>: service unavailable
    s.cmd("QUIT")                              # 221 2.0.0 Bye


def pf_policy(s):
    """Restriction replies: greylisting, relay, unknown user, HELO, limits."""
    s.read()
    s.cmd("EHLO localhost")
    s.cmd("MAIL FROM:<sender@example.org>")
    s.cmd("RCPT TO:<alice@example.net>")          # 504 5.5.2 need FQDN helo
    s.cmd("RSET")
    s.cmd("EHLO client.example.org")
    s.cmd("MAIL FROM:<sender@example.org>")
    s.cmd("RCPT TO:<greylist@example.net>")       # 450 4.2.0 Greylisted
    s.cmd("RCPT TO:<nobody-here@example.net>")    # 550 5.1.1
    s.cmd("RCPT TO:<bob@example.com>")            # 554 5.7.1 Relay access denied
    s.cmd("RCPT TO:<alice@example.net>")          # 250 2.1.5
    s.cmd("RCPT TO:<bob@example.net>")            # 250 2.1.5
    s.cmd("RCPT TO:<carol@example.net>")          # 250 2.1.5
    s.cmd("RCPT TO:<dave@example.net>")           # 452 4.5.3 too many recipients
    s.cmd("DATA")                                 # 354
    s.send(HDR % "policy" + "Three recipients accepted, one over the limit.\r\n.\r\n")
    s.read()                                      # 250 2.0.0 Ok: queued as ...
    s.cmd("QUIT")


def pf_hold(s):
    """First of two parallel sessions for the connection-count limit:
    say EHLO, stay idle for 3 s while the second session is refused, QUIT."""
    s.read()
    s.cmd("EHLO client.example.org")
    s.read(idle=3)
    s.cmd("QUIT")


def pf_bdat(s):
    """CHUNKING: BDAT n / BDAT n LAST, plus a BDAT error."""
    s.read()
    s.cmd("EHLO client.example.org")
    s.cmd("MAIL FROM:<sender@example.org>")
    s.cmd("RCPT TO:<alice@example.net>")
    chunk1 = (HDR % "bdat").encode()
    chunk2 = b"First and last chunk of the body, sent with BDAT LAST.\r\n"
    s.send(b"BDAT %d\r\n" % len(chunk1) + chunk1)
    s.read()                                      # 250 2.0.0 Ok: N bytes
    s.send(b"BDAT %d LAST\r\n" % len(chunk2) + chunk2)
    s.read()                                      # 250 2.0.0 Ok: queued as ...
    s.cmd("MAIL FROM:<sender@example.org>")
    s.cmd("RCPT TO:<alice@example.net>")
    s.cmd("BDAT 0 LAST")                          # 250 2.0.0 Ok: 0 bytes queued as ...
    s.cmd("BDAT 10 NOTLAST")                      # 521 5.5.4 Syntax, Postfix disconnects
    s.cmd("DATA")                                 # not answered (connection closed)
    s.cmd("QUIT")


def pf_timeout(s):
    """Say EHLO, then stay silent until Postfix times out (421 4.4.2)."""
    s.read()
    s.cmd("EHLO client.example.org")
    s.read(idle=6)                                # 421 4.4.2 ... timeout exceeded


def pf_errorlimit(s):
    """Too many errors: smtpd_hard_error_limit on this listener is 3."""
    s.read()
    s.cmd("EHLO client.example.org")
    s.cmd("FOO")
    s.cmd("BAR")
    s.cmd("BAZ")                                  # 421 4.7.0 too many errors
    s.read(idle=1)


def pf_vrfy_disabled(s):
    s.read()
    s.cmd("EHLO client.example.org")
    s.cmd("VRFY alice")                           # 502 5.5.1 VRFY disabled
    s.cmd("QUIT")


def pf_client_check(s):
    """Client restrictions on the 198.51.100.11/.12 listeners."""
    s.read()
    s.cmd("EHLO client.example.org")
    s.cmd("MAIL FROM:<sender@example.org>")
    s.cmd("RCPT TO:<alice@example.net>")
    s.cmd("QUIT")


def pf_linelimit(s):
    """Ask for too much with SIZE= in MAIL FROM (552 5.3.4 at MAIL time)."""
    s.read()
    s.cmd("EHLO client.example.org")
    s.cmd("MAIL FROM:<sender@example.org> SIZE=50000")
    s.cmd("QUIT")


# Submission (587) with smtpd_tls_security_level=encrypt

def sub_notls(s):
    s.read()
    s.cmd("EHLO client.example.org")
    s.cmd("MAIL FROM:<sender@example.org>")       # 530 5.7.0 STARTTLS first
    s.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")      # 530 5.7.0 STARTTLS first
    s.cmd("QUIT")


def sub_tls(s):
    s.read()
    s.cmd("EHLO client.example.org")
    s.cmd("STARTTLS")                             # 220 2.0.0 Ready to start TLS
    s.starttls()
    s.cmd("EHLO client.example.org")
    s.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")      # 503 5.5.1 auth not enabled
    s.cmd("MAIL FROM:<sender@example.org>")
    s.cmd("RCPT TO:<bob@example.com>")            # 554 5.7.1 Relay access denied
    s.cmd("RCPT TO:<alice@example.net>")          # rejected: submission requires auth
    s.cmd("QUIT")


# Scripted server: malformed / edge-case replies.  The client only sends
# EHLO, NOOP and QUIT; the server decides what to answer.

def scripted_noop(s):
    s.read()
    s.cmd("EHLO client.example.org")
    s.cmd("NOOP")
    s.cmd("QUIT")


def scripted_banner_only(s):
    s.read()
    s.cmd("QUIT")


SCENARIOS = {k: v for k, v in globals().items()
             if callable(v) and k.startswith(("pf_", "sub_", "scripted_"))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--src")
    ap.add_argument("--keylog")
    a = ap.parse_args()
    s = Session(a.host, a.port, a.src, a.keylog)
    try:
        SCENARIOS[a.scenario](s)
    except (OSError, TimeoutError) as e:
        print("rawclient: %s: %s" % (a.scenario, e), file=sys.stderr)
    finally:
        s.close()


if __name__ == "__main__":
    main()
