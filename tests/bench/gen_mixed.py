#!/usr/bin/python3
"""Generates a large, realistic mixed capture for benchmarking smtp_delivery.

The capture is taken on a mail relay (198.51.100.10, 2001:db8:100::10) that
receives mail on port 25, takes submissions on 587, delivers mail to remote
MX hosts, downloads and uploads bulk data over 443, asks its resolver and
pings. Flows overlap in time (a Poisson stream of flow starts, merged by
timestamp) and each TCP flow has consistent sequence and ACK numbers, MSS
options, DF set, checksums, and delayed or piggy-backed ACKs.

SMTP sessions carry replies of every class: 220/221/250/235/354, multi-line
EHLO with PIPELINING and ENHANCEDSTATUSCODES, pipelined MAIL/RCPT/DATA bursts,
4xx (greylisting, rate limits, too many connections, mailbox full, server
busy), 5xx (unknown user, relay denied, blocklists, DMARC, policy), message
bodies of several KB (full-size segments) and some big attachments.
Some outbound deliveries run into a PMTU black hole (full-size DF segments
retransmitted with exponential backoff, the small tail SACKed, no ICMP; the
sender gives up or recovers with smaller segments), others meet working PMTUD
(ICMP fragmentation-needed / ICMPv6 packet-too-big quoting the segment, then
smaller segments).

Only documentation addresses and example domains are used. Deterministic for
a given --seed. Writes classic pcap (LINKTYPE_ETHERNET, microseconds).

    /usr/bin/python3 gen_mixed.py -o mixed.pcap [--packets 1000000] [--seed 1]
"""
import argparse
import base64
import heapq
import os
import random
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pcapw import (ACK, PSH, PcapWriter, icmp4_frame, icmp6_frame, ip4, ip6, mac,  # noqa: E402
                   udp_frame)
from tcpflow import Tcp  # noqa: E402

START = 1710226800.0  # 2024-03-12 07:00:00 UTC

ME4 = ip4('198.51.100.10')
ME6 = ip6('2001:db8:100::10')
MY_MAC = mac('02:00:5e:10:00:0a')
GW_MAC = mac('02:00:5e:10:00:01')
RESOLVER = ip4('198.51.100.53')
RESOLVER_MAC = mac('02:00:5e:10:00:35')
ROUTER4 = ip4('203.0.113.254')
ROUTER6 = ip6('2001:db8:ffff::1')
MYNAME = 'mx.example.net'

USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory',
         'niaj', 'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'info', 'sales',
         'support', 'billing', 'noreply', 'postmaster', 'hr', 'newsletter']
DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com', 'lists.example.org',
           'corp.example.net', 'shop.example.com', 'news.example.org']
WORDS = ('the of and to in is that for it as was with be by on not he this are or his from at which but '
         'have an they you were her she there been one all we their has would when if so what no out more '
         'will up other about into than them can only some could its time these two may then do first any '
         'my now such like our over man me even most made after also did many before must through back '
         'years where much your way well down should because each just those people how too little state '
         'good very make world still own see men work long get here between both life being under never day '
         'same another know while last might us great old year off come since against go came right used '
         'take three invoice meeting report schedule quarterly shipment order delivery project budget').split()


def rand_ip4(rng):
    return ip4('%s.%d' % (rng.choice(('192.0.2', '203.0.113')), rng.randint(1, 253)))


def rand_ip6(rng, prefix='2001:db8:2::'):
    return ip6('%s%x:%x' % (prefix, rng.randint(1, 0xffff), rng.randint(1, 0xffff)))


def ip_text(addr):
    if len(addr) == 4:
        return '.'.join(str(b) for b in addr)
    import ipaddress
    return str(ipaddress.IPv6Address(addr))


def addr(rng):
    return '%s@%s' % (rng.choice(USERS), rng.choice(DOMAINS))


def queue_id(rng):
    alphabet = 'BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789'
    return '4' + ''.join(rng.choice(alphabet) for _ in range(11))


def message_body(rng, size):
    """RFC 5322 message of about `size` bytes, dot-stuffing not needed."""
    frm, to = addr(rng), addr(rng)
    hdr = ('Received: from client.example.org (client.example.org [192.0.2.%d])\r\n'
           '\tby %s (Postfix) with ESMTPS id %s\r\n\tfor <%s>; Tue, 12 Mar 2024 07:%02d:%02d +0000 (UTC)\r\n'
           'From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Tue, 12 Mar 2024 07:%02d:%02d +0000\r\n'
           'Message-ID: <%x.%x@%s>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n'
           'Content-Transfer-Encoding: 8bit\r\n\r\n') % (
        rng.randint(1, 250), MYNAME, queue_id(rng), to, rng.randint(0, 59), rng.randint(0, 59),
        frm, to, ' '.join(rng.choice(WORDS) for _ in range(rng.randint(2, 7))).capitalize(),
        rng.randint(0, 59), rng.randint(0, 59), rng.getrandbits(48), rng.getrandbits(32), rng.choice(DOMAINS))
    out = [hdr]
    n = len(hdr)
    while n < size:
        line = ' '.join(rng.choice(WORDS) for _ in range(rng.randint(6, 13)))
        out.append(line + '\r\n')
        n += len(line) + 2
    return ''.join(out).encode()


def attachment_body(rng, size, pool):
    frm, to = addr(rng), addr(rng)
    b = ('From: %s\r\nTo: %s\r\nSubject: scan %d\r\nMIME-Version: 1.0\r\n'
         'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n'
         'Please find the document attached.\r\n--b1\r\nContent-Type: application/pdf; name="scan.pdf"\r\n'
         'Content-Transfer-Encoding: base64\r\n\r\n') % (frm, to, rng.randint(1000, 9999))
    raw_len = size * 3 // 4
    off = rng.randrange(0, len(pool) - raw_len)
    enc = base64.encodebytes(pool[off:off + raw_len]).replace(b'\n', b'\r\n')
    return b.encode() + enc + b'--b1--\r\n'


# ---------------------------------------------------------------------------
# Server personalities: replies an SMTP server of that kind gives.

def postfix_ehlo(name, submission=False):
    caps = ['PIPELINING', 'SIZE 52428800', 'VRFY', 'ETRN', 'STARTTLS']
    if submission:
        caps.append('AUTH PLAIN LOGIN')
    caps += ['ENHANCEDSTATUSCODES', '8BITMIME', 'DSN', 'SMTPUTF8', 'CHUNKING']
    lines = [name] + caps
    return ''.join('250%s%s\r\n' % ('-' if i < len(lines) - 1 else ' ', l) for i, l in enumerate(lines))


def multi(code, enh, lines):
    return ''.join('%d%s%s %s\r\n' % (code, '-' if i < len(lines) - 1 else ' ', enh, l)
                   for i, l in enumerate(lines))


class Server:
    """Reply texts of one kind of server; {ip} is the client address, {rcpt} the recipient."""

    def __init__(self, kind, name):
        self.kind = kind
        self.name = name

    def greeting(self):
        if self.kind == 'gmail':
            return '220 %s ESMTP a640c23a62f3a-a4a4d2b83c1si112233ejc.321 - gsmtp\r\n' % self.name
        if self.kind == 'outlook':
            return ('220 %s Microsoft ESMTP MAIL Service ready at Tue, 12 Mar 2024 07:00:00 +0000 '
                    '[08DC4211F5E1A2B3]\r\n' % self.name)
        if self.kind == 'yahoo':
            return '220 %s ESMTP ready\r\n' % self.name
        return '220 %s ESMTP Postfix (Debian/GNU)\r\n' % self.name

    def ehlo(self, submission=False):
        if self.kind == 'gmail':
            return ('250-%s at your service, [198.51.100.10]\r\n250-SIZE 157286400\r\n250-8BITMIME\r\n'
                    '250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-CHUNKING\r\n'
                    '250 SMTPUTF8\r\n' % self.name)
        if self.kind == 'outlook':
            return ('250-%s Hello [198.51.100.10]\r\n250-SIZE 157286400\r\n250-PIPELINING\r\n250-DSN\r\n'
                    '250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250-8BITMIME\r\n250-BINARYMIME\r\n'
                    '250-CHUNKING\r\n250 SMTPUTF8\r\n' % self.name)
        if self.kind == 'yahoo':
            return ('250-%s\r\n250-PIPELINING\r\n250-SIZE 41943040\r\n250-8BITMIME\r\n'
                    '250 STARTTLS\r\n' % self.name)
        return postfix_ehlo(self.name, submission)

    def mail_ok(self, rng):
        if self.kind == 'gmail':
            return '250 2.1.0 OK a640c23a62f3a-a4a4d2b83c1si1122%02dejc.%d - gsmtp\r\n' % (rng.randint(0, 99),
                                                                                          rng.randint(1, 999))
        if self.kind == 'outlook':
            return '250 2.1.0 Sender OK\r\n'
        if self.kind == 'yahoo':
            return '250 sender <%s> ok\r\n' % addr(rng)
        return '250 2.1.0 Ok\r\n'

    def rcpt(self, rng, outcome, rcpt, ip):
        k = self.kind
        if outcome == 'ok':
            if k == 'gmail':
                return '250 2.1.5 OK a640c23a62f3a-a4a4d2b83c1si1122%02dejc.%d - gsmtp\r\n' % (
                    rng.randint(0, 99), rng.randint(1, 999))
            if k == 'outlook':
                return '250 2.1.5 Recipient OK\r\n'
            if k == 'yahoo':
                return '250 recipient <%s> ok\r\n' % rcpt
            return '250 2.1.5 Ok\r\n'
        if outcome == 'greylist':
            return ('450 4.2.0 <%s>: Recipient address rejected: Greylisted, see '
                    'https://postgrey.example.org/help/%s.html\r\n' % (rcpt, rcpt.split('@')[1]))
        if outcome == 'ratelimit':
            if k == 'gmail':
                return multi(421, '4.7.28', [
                    '[%s      15] Our system has detected an unusual rate of' % ip,
                    'unsolicited mail originating from your IP address. To protect our',
                    'users from spam, mail sent from your IP address has been temporarily',
                    'rate limited. Please visit',
                    ' https://support.google.com/mail/?p=UnsolicitedRateLimitError to',
                    'review our Bulk Email Senders Guidelines. a640c23a62f3a-a4a4d2b83c1si - gsmtp'])
            if k == 'outlook':
                return ('451 4.7.500 Server busy. Please try again later from [%s]. (S77714) '
                        '[Name=Protocol Filter Agent][AGT=PFA][MxId=11B9B0C2D5E3F410] '
                        '[%s]\r\n' % (ip, self.name))
            if k == 'yahoo':
                return ('421 4.7.0 [TSS04] Messages from %s temporarily deferred due to unexpected volume '
                        'or user complaints - 4.16.55.1; see https://postmaster.example.com/error-codes\r\n' % ip)
            return '451 4.7.1 <%s>: Recipient address rejected: Rate limit exceeded, try again later\r\n' % rcpt
        if outcome == 'unknown':
            if k == 'gmail':
                return multi(550, '5.1.1', [
                    "The email account that you tried to reach does not exist. Please try",
                    "double-checking the recipient's email address for typos or",
                    "unnecessary spaces. For more information, go to",
                    " https://support.google.com/mail/?p=NoSuchUser a640c23a62f3a-a4a4d2b83c1si - gsmtp"])
            if k == 'outlook':
                return ('550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). '
                        '[%s]\r\n' % self.name)
            if k == 'yahoo':
                return '554 delivery error: dd This user doesn\'t have a %s account (%s) [0] - %s\r\n' % (
                    rcpt.split('@')[1], rcpt, self.name)
            return ('550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table\r\n'
                    % rcpt)
        if outcome == 'relay':
            return '554 5.7.1 <%s>: Relay access denied\r\n' % rcpt
        if outcome == 'full':
            if k == 'gmail':
                return multi(452, '4.2.2', [
                    "The recipient's inbox is out of storage space and inactive. Please",
                    "direct the recipient to",
                    " https://support.google.com/mail/?p=OverQuotaPerm a640c23a62f3a - gsmtp"])
            return '552 5.2.2 <%s>: Recipient address rejected: Mailbox full\r\n' % rcpt
        if outcome == 'toomany':
            return '452 4.5.3 Error: too many recipients\r\n'
        raise ValueError(outcome)

    def data_go(self):
        if self.kind == 'gmail':
            return '354  Go ahead a640c23a62f3a-a4a4d2b83c1si112233ejc.321 - gsmtp\r\n'
        if self.kind == 'outlook':
            return '354 Start mail input; end with <CRLF>.<CRLF>\r\n'
        if self.kind == 'yahoo':
            return '354 Start Mail. End with CRLF.CRLF\r\n'
        return '354 End data with <CR><LF>.<CR><LF>\r\n'

    def data_end(self, rng, outcome, ip):
        k = self.kind
        if outcome == 'ok':
            if k == 'gmail':
                return '250 2.0.0 OK  1710227%03d a640c23a62f3a-a4a4d2b83c1si1122%02dejc.%d - gsmtp\r\n' % (
                    rng.randint(0, 999), rng.randint(0, 99), rng.randint(1, 999))
            if k == 'outlook':
                return ('250 2.6.0 <%x@example.net> [InternalId=%d, Hostname=%s] %d bytes in 0.%03d, '
                        '%d.%03d KB/sec Queued mail for delivery\r\n' % (
                            rng.getrandbits(40), rng.getrandbits(40), self.name, rng.randint(2000, 90000),
                            rng.randint(1, 999), rng.randint(1, 999), rng.randint(0, 999)))
            if k == 'yahoo':
                return '250 ok dirdel\r\n'
            return '250 2.0.0 Ok: queued as %s\r\n' % queue_id(rng)
        if outcome == 'dmarc':
            return multi(550, '5.7.26', [
                'Unauthenticated email from example.org is not accepted due to',
                "domain's DMARC policy. Please contact the administrator of",
                'example.org domain if this was a legitimate mail. To learn about',
                'the DMARC initiative, go to',
                ' https://support.google.com/mail/?p=DmarcRejection a640c23a62f3a - gsmtp'])
        if outcome == 'policy':
            if k == 'yahoo':
                return ('554 5.7.9 Message not accepted for policy reasons.  See '
                        'https://postmaster.example.com/error-codes\r\n')
            return '554 5.7.1 Spam message rejected\r\n'
        if outcome == 'size':
            return '552 5.3.4 Error: message file too big\r\n'
        if outcome == 'qwrite':
            return '451 4.3.0 Error: queue file write error\r\n'
        raise ValueError(outcome)

    def blocked(self, ip):
        if self.kind == 'outlook':
            return ("550 5.7.1 Unfortunately, messages from [%s] weren't sent. Please contact your Internet "
                    "service provider since part of their network is on our block list (S3150). You can also "
                    "refer your provider to http://mail.example.com/mail/troubleshooting.aspx#errors. "
                    "[%s]\r\n" % (ip, self.name))
        if self.kind == 'yahoo':
            return ('553 5.7.2 [TSS09] All messages from %s will be permanently deferred; Retrying will NOT '
                    'succeed. See https://postmaster.example.com/error-codes\r\n' % ip)
        return ('554 5.7.1 Service unavailable; Client host [%s] blocked using zen.spamhaus.org; '
                'https://www.spamhaus.org/query/ip/%s\r\n' % (ip, ip))


# ---------------------------------------------------------------------------
# Flow generators: each returns a list of (ts, frame).

class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.pool = self.rng.randbytes(1 << 21)
        self.ipid_me = self.rng.getrandbits(16)
        self.stats = {}

    def count(self, key):
        self.stats[key] = self.stats.get(key, 0) + 1

    def tcp(self, v6, local, sport, rtt, remote=None, mss_remote=None):
        rng = self.rng
        if local == 's':  # inbound: a remote client connects to us
            cip = remote or (rand_ip6(rng) if v6 else rand_ip4(rng))
            sip = ME6 if v6 else ME4
            c = Tcp(rng, v6, cip, sip, rng.randint(32768, 60999), sport, GW_MAC, MY_MAC, 's', rtt,
                    mss_c=mss_remote)
        else:  # outbound: we connect to a remote server
            sip = remote or (rand_ip6(rng, '2001:db8:3::') if v6 else rand_ip4(rng))
            cip = ME6 if v6 else ME4
            c = Tcp(rng, v6, cip, sip, rng.randint(32768, 60999), sport, MY_MAC, GW_MAC, 'c', rtt,
                    mss_s=mss_remote)
        return c

    # --- SMTP --------------------------------------------------------------
    def smtp_transaction(self, c, t, srv, pipelining, rcpt_outcomes, data_outcome, body, client_proc):
        """MAIL, RCPTs, DATA, body, end of data. Returns time of the last reply."""
        rng = self.rng
        ip = ip_text(c.ip['c'])
        rcpts = [addr(rng) for _ in rcpt_outcomes]
        mail = 'MAIL FROM:<%s> SIZE=%d\r\n' % (addr(rng), len(body))
        rcmds = ['RCPT TO:<%s>\r\n' % r for r in rcpts]
        replies = [srv.rcpt(rng, o, r, ip) for o, r in zip(rcpt_outcomes, rcpts)]
        accepted = any(o == 'ok' for o in rcpt_outcomes)
        data_reply = srv.data_go() if accepted else '554 5.5.1 Error: no valid recipients\r\n'
        if pipelining:
            t = c.exchange(t, 'c', (mail + ''.join(rcmds) + 'DATA\r\n').encode(), client_proc)
            t = c.exchange(t, 's', (srv.mail_ok(rng) + ''.join(replies) + data_reply).encode(),
                           rng.uniform(0.002, 0.3))
        else:
            t = c.exchange(t, 'c', mail.encode(), client_proc)
            t = c.exchange(t, 's', srv.mail_ok(rng).encode(), rng.uniform(0.001, 0.02))
            for cmd, rep in zip(rcmds, replies):
                t = c.exchange(t, 'c', cmd.encode(), client_proc)
                t = c.exchange(t, 's', rep.encode(), rng.uniform(0.002, 0.3))
            t = c.exchange(t, 'c', b'DATA\r\n', client_proc)
            t = c.exchange(t, 's', data_reply.encode(), rng.uniform(0.0005, 0.005))
        if not accepted:
            return t, False
        t = c.stream(c.resp(t, 'c', client_proc), 'c', body + b'.\r\n')
        t = c.exchange(t, 's', srv.data_end(rng, data_outcome, ip).encode(), rng.uniform(0.03, 0.8),
                       delayed_ack=False)
        return t, True

    def smtp_session(self, t0):
        rng = self.rng
        r = rng.random()
        if r < 0.62:
            return self.smtp_inbound(t0)
        if r < 0.75:
            return self.smtp_submission(t0)
        return self.smtp_outbound(t0)

    def pick_body(self):
        rng = self.rng
        r = rng.random()
        if r < 0.07:
            return attachment_body(rng, rng.randint(40000, 400000), self.pool)
        if r < 0.35:
            return message_body(rng, rng.randint(800, 3000))
        return message_body(rng, rng.randint(3000, 20000))

    def rcpt_outcomes(self, weights):
        rng = self.rng
        n = rng.choice((1, 1, 1, 1, 1, 2, 2, 3, 5))
        keys = list(weights)
        return [rng.choices(keys, [weights[k] for k in keys])[0] for _ in range(n)]

    def smtp_inbound(self, t0):
        """A remote MTA delivers to us on port 25; the capture runs here."""
        rng = self.rng
        v6 = rng.random() < 0.15
        c = self.tcp(v6, 's', 25, rng.uniform(0.008, 0.18))
        srv = Server('postfix', MYNAME)
        ip = ip_text(c.ip['c'])
        t = c.handshake(t0)
        g = rng.random()
        cp = rng.uniform(0.0002, 0.004)
        if g < 0.05:
            self.count('smtp-in too-many-connections')
            t = c.exchange(t, 's', ('421 4.7.0 %s Error: too many connections from %s\r\n'
                                    % (MYNAME, ip)).encode(), 0.0003)
            c.close(t, 's', 0.0001)
            return c.ev
        if g < 0.10:
            self.count('smtp-in blocklisted (postscreen)')
            t = c.exchange(t, 's', ('550 5.3.2 Service currently unavailable\r\n').encode(),
                           rng.uniform(0.5, 6.0))
            t = c.exchange(t, 'c', b'QUIT\r\n', cp)
            t = c.exchange(t, 's', b'221 2.7.0 Error: I can break rules, too. Goodbye.\r\n', 0.0002)
            c.close(t, 's', 0.0001)
            return c.ev
        t = c.exchange(t, 's', srv.greeting().encode(), rng.uniform(0.001, 0.02))
        ehlo = rng.random() < 0.92
        if ehlo:
            t = c.exchange(t, 'c', b'EHLO client%d.example.org\r\n' % rng.randint(1, 999), cp)
            t = c.exchange(t, 's', srv.ehlo().encode(), 0.0004)
        else:
            t = c.exchange(t, 'c', b'HELO client%d.example.org\r\n' % rng.randint(1, 999), cp)
            t = c.exchange(t, 's', ('250 %s\r\n' % MYNAME).encode(), 0.0004)
        if g < 0.14:
            self.count('smtp-in blocklisted (RBL at RCPT)')
            t = c.exchange(t, 'c', ('MAIL FROM:<%s>\r\n' % addr(rng)).encode(), cp)
            t = c.exchange(t, 's', b'250 2.1.0 Ok\r\n', 0.0005)
            t = c.exchange(t, 'c', ('RCPT TO:<%s>\r\n' % addr(rng)).encode(), cp)
            t = c.exchange(t, 's', srv.blocked(ip).encode(), rng.uniform(0.05, 1.5))
        else:
            pipelining = ehlo and rng.random() < 0.8
            n_tx = 1 if rng.random() < 0.9 else rng.randint(2, 4)
            for i in range(n_tx):
                outs = self.rcpt_outcomes({'ok': 70, 'greylist': 9, 'unknown': 8, 'relay': 3,
                                           'ratelimit': 3, 'full': 2, 'toomany': 1})
                d = rng.choices(('ok', 'policy', 'size', 'qwrite'), (92, 4, 2, 2))[0]
                body = self.pick_body()
                t, sent = self.smtp_transaction(c, t, srv, pipelining, outs, d, body, cp)
                self.count('smtp-in transaction' + (' with body' if sent else ' refused'))
                if i < n_tx - 1 and rng.random() < 0.5:
                    t = c.exchange(t, 'c', b'RSET\r\n', cp)
                    t = c.exchange(t, 's', b'250 2.0.0 Ok\r\n', 0.0002)
        t = c.exchange(t, 'c', b'QUIT\r\n', cp)
        t = c.exchange(t, 's', b'221 2.0.0 Bye\r\n', 0.0002)
        c.close(t, 's', 0.0001)
        return c.ev

    def smtp_submission(self, t0):
        """A mail client submits on port 587."""
        rng = self.rng
        v6 = rng.random() < 0.25
        c = self.tcp(v6, 's', 587, rng.uniform(0.015, 0.09))
        srv = Server('postfix', MYNAME)
        t = c.handshake(t0)
        cp = rng.uniform(0.001, 0.03)
        t = c.exchange(t, 's', srv.greeting().encode(), rng.uniform(0.001, 0.01))
        t = c.exchange(t, 'c', b'EHLO [192.168.1.%d]\r\n' % rng.randint(2, 250), cp)
        t = c.exchange(t, 's', srv.ehlo(submission=True).encode(), 0.0004)
        g = rng.random()
        if g < 0.4:
            self.count('smtp-587 STARTTLS')
            t = c.exchange(t, 'c', b'STARTTLS\r\n', cp)
            t = c.exchange(t, 's', b'220 2.0.0 Ready to start TLS\r\n', 0.0003)
            # TLS from here on: handshake records, then application data
            t = c.exchange(t, 'c', self.tls_record(0x16, rng.randint(250, 520)), cp)
            t = c.exchange(t, 's', self.tls_record(0x16, rng.randint(2500, 4500)), 0.002)
            t = c.exchange(t, 'c', self.tls_record(0x14, 1) + self.tls_record(0x16, 60), cp)
            for _ in range(rng.randint(3, 7)):
                t = c.exchange(t, 'c', self.tls_record(0x17, rng.randint(40, 200)), cp)
                t = c.exchange(t, 's', self.tls_record(0x17, rng.randint(30, 160)), 0.001)
            t = c.stream(t, 'c', self.tls_records(rng.randint(3000, 40000)))
            t = c.exchange(t, 's', self.tls_record(0x17, 90), 0.1, delayed_ack=False)
            c.close(t, 'c', cp)
            return c.ev
        if g < 0.7:
            self.count('smtp-587 530 must STARTTLS')
            t = c.exchange(t, 'c', ('MAIL FROM:<%s>\r\n' % addr(rng)).encode(), cp)
            t = c.exchange(t, 's', b'530 5.7.0 Must issue a STARTTLS command first\r\n', 0.0002)
        else:
            t = c.exchange(t, 'c', b'AUTH PLAIN ' + base64.b64encode(b'\0user\0secret%d' % rng.randint(0, 99)) +
                           b'\r\n', cp)
            if g < 0.9:
                self.count('smtp-587 AUTH ok + transaction')
                t = c.exchange(t, 's', b'235 2.7.0 Authentication successful\r\n', rng.uniform(0.01, 0.1))
                t, _ = self.smtp_transaction(c, t, srv, True, ['ok'] * rng.randint(1, 3), 'ok',
                                             self.pick_body(), cp)
            else:
                self.count('smtp-587 AUTH failed')
                t = c.exchange(t, 's', b'535 5.7.8 Error: authentication failed: authentication failure\r\n',
                               rng.uniform(0.5, 2.0))
        t = c.exchange(t, 'c', b'QUIT\r\n', cp)
        t = c.exchange(t, 's', b'221 2.0.0 Bye\r\n', 0.0002)
        c.close(t, 's', 0.0001)
        return c.ev

    def tls_records(self, size):
        """Application data of about `size` bytes in records of at most 2^14 bytes."""
        recs = []
        n = 0
        while n < size:
            ln = min(16384, max(1, size - n))
            recs.append(self.tls_record(0x17, ln))
            n += ln + 5
        return b''.join(recs)

    def tls_record(self, ctype, n):
        off = self.rng.randrange(0, len(self.pool) - n)
        return struct.pack('!BHH', ctype, 0x0303, n) + self.pool[off:off + n]

    def smtp_outbound(self, t0):
        """We deliver to a remote MX on port 25; the capture runs here (the sender)."""
        rng = self.rng
        v6 = rng.random() < 0.2
        kind = rng.choices(('postfix', 'gmail', 'outlook', 'yahoo'), (40, 30, 20, 10))[0]
        srv = Server(kind, 'mx%d.%s' % (rng.randint(1, 4), rng.choice(DOMAINS)))
        special = rng.random()
        c = self.tcp(v6, 'c', 25, rng.uniform(0.01, 0.2))
        ip = '198.51.100.10' if not v6 else '2001:db8:100::10'
        t = c.handshake(t0)
        cp = rng.uniform(0.0002, 0.002)
        t = c.exchange(t, 's', srv.greeting().encode(), rng.uniform(0.005, 0.3))
        if special >= 0.12 and rng.random() < 0.04:
            self.count('smtp-out blocked at greeting time')
            t = c.exchange(t, 'c', b'EHLO mx.example.net\r\n', cp)
            t = c.exchange(t, 's', srv.ehlo().encode(), 0.001)
            t = c.exchange(t, 'c', ('MAIL FROM:<%s>\r\n' % addr(rng)).encode(), cp)
            t = c.exchange(t, 's', srv.blocked(ip).encode(), rng.uniform(0.01, 0.2))
            t = c.exchange(t, 'c', b'QUIT\r\n', cp)
            t = c.exchange(t, 's', b'221 2.0.0 Bye\r\n', 0.0003)
            c.close(t, 's', 0.0001)
            return c.ev
        t = c.exchange(t, 'c', b'EHLO mx.example.net\r\n', cp)
        t = c.exchange(t, 's', srv.ehlo().encode(), 0.001)
        if special < 0.12:
            return self.smtp_pmtu(c, t, srv, cp, special)
        outs = self.rcpt_outcomes({'ok': 80, 'unknown': 6, 'ratelimit': 5, 'full': 3, 'greylist': 6})
        d = rng.choices(('ok', 'dmarc', 'policy'), (93, 4, 3))[0] if kind == 'gmail' else \
            rng.choices(('ok', 'policy'), (96, 4))[0]
        t, sent = self.smtp_transaction(c, t, srv, True, outs, d, self.pick_body(), cp)
        self.count('smtp-out transaction' + (' with body' if sent else ' refused'))
        t = c.exchange(t, 'c', b'QUIT\r\n', cp)
        t = c.exchange(t, 's', b'221 2.0.0 Bye\r\n', 0.0003)
        c.close(t, 'c', 0.0001)
        return c.ev

    def smtp_pmtu(self, c, t, srv, cp, special):
        """Delivery on a path whose MTU is below 1500: black hole (no ICMP),
        black hole recovered by MTU probing, or working PMTUD."""
        rng = self.rng
        v6 = c.v6
        pmtu = rng.choice((1280, 1400, 1420, 1450, 1480, 1492)) if not v6 else rng.choice((1280, 1420, 1480))
        hdr = 60 if v6 else 40
        rcpt = addr(rng)
        t = c.exchange(t, 'c', ('MAIL FROM:<%s> SIZE=9000\r\nRCPT TO:<%s>\r\nDATA\r\n'
                                % (addr(rng), rcpt)).encode(), cp)
        t = c.exchange(t, 's', (srv.mail_ok(rng) + srv.rcpt(rng, 'ok', rcpt, '') + srv.data_go()).encode(),
                       rng.uniform(0.01, 0.2))
        # body of 3 to 13 full segments plus a small tail, all in the first window
        mss = c.mss['c']
        nfull = rng.randint(3, 9)
        body = message_body(rng, nfull * mss + rng.randint(50, 500))
        data = body + b'.\r\n'
        nfull = len(data) // mss
        if len(data) - nfull * mss + hdr > pmtu:  # the tail must fit the path
            data = data[:nfull * mss - 200] + b'\r\n.\r\n'
            nfull = len(data) // mss
        t = c.resp(t, 'c', cp)
        start = c.nxt['c']
        seg_t = []
        for i in range(nfull):
            seq = c.seg(t, 'c', ACK, data[i * mss:(i + 1) * mss], deliver=False)
            seg_t.append((t, seq, c.ev[-1][1]))
            t += 0.000013
        tail_seq = c.nxt['c']
        tail = data[nfull * mss:]
        c.seg(t, 'c', PSH | ACK, tail, deliver=False)
        end = c.nxt['c']
        t_tail = t
        rto = max(0.2 + c.rtt, 0.21)
        if special < 0.045:
            kind = 'black hole, sender gives up' if special < 0.03 else 'black hole, recovered by MTU probing'
        else:
            kind = 'working PMTUD (ICMP too big)'
        self.count('smtp-out ' + kind + (' v6' if v6 else ''))
        if kind.startswith('black hole'):
            # the receiver got only the tail: a duplicate ACK with SACK
            c.sack(c.resp(t_tail, 's', 0.00002), 's', [(tail_seq, end)])
            first_t, first_seq, _ = seg_t[0]
            tr = first_t
            n_retx = rng.randint(7, 9) if kind.endswith('gives up') else rng.randint(2, 4)
            for k in range(n_retx):
                tr += rto * (2 ** k)
                c.seg(tr, 'c', ACK, data[:mss], seq=first_seq, deliver=False)
            if kind.endswith('gives up'):
                c.reset(tr + rto * (2 ** n_retx), 'c')
                return c.ev
            # Linux tcp_mtu_probing: resend the lost bytes with 1024-byte segments
            tr += rto * (2 ** n_retx)
            small = 1024 - (20 if v6 else 0)
            lost = data[:nfull * mss]
            pos = 0
            i = 0
            while pos < len(lost):
                chunk = lost[pos:pos + small]
                c.seg(tr, 'c', ACK, chunk, seq=start + pos, deliver=False)
                pos += len(chunk)
                i += 1
                ack_to = start + pos if pos < len(lost) else end
                if i % 2 == 0 or pos >= len(lost):
                    c.seg(c.resp(tr, 's', 0.00003), 's', ACK, ack=ack_to)
                tr += 0.000013
                if i % 10 == 0:
                    tr = c.resp(tr, 'c') + c.rtt
            c.rcv['s'] = end
            t = tr + c.rtt
        else:
            # working PMTUD: the router answers the first oversized packets
            router = ROUTER6 if v6 else ROUTER4
            n_icmp = min(len(seg_t), rng.randint(1, 3))
            t_icmp0 = None
            for i in range(n_icmp):
                st, _seq, frame = seg_t[i]
                ti = st + c.rtt * rng.uniform(0.2, 0.45)
                t_icmp0 = t_icmp0 or ti
                quoted = frame[14:]
                if v6:
                    q = quoted[:1280 - 48]
                    f = icmp6_frame(MY_MAC, GW_MAC, router, c.ip['c'], 2, 0, struct.pack('!I', pmtu), q,
                                    hlim=rng.randint(55, 62))
                else:
                    q = quoted[:548] if rng.random() < 0.7 else quoted[:28]
                    self.ipid_me = (self.ipid_me + 1) & 0xffff
                    f = icmp4_frame(MY_MAC, GW_MAC, router, c.ip['c'], 3, 4, struct.pack('!HH', 0, pmtu), q,
                                    ipid=rng.getrandbits(16), ttl=rng.randint(250, 254))
                c.ev.append((ti, f))
            c.sack(c.resp(t_tail, 's', 0.00002), 's', [(tail_seq, end)])
            small = pmtu - hdr
            tr = t_icmp0 + 0.00002
            lost = data[:nfull * mss]
            pos = 0
            i = 0
            while pos < len(lost):
                chunk = lost[pos:pos + small]
                c.seg(tr, 'c', ACK, chunk, seq=start + pos, deliver=False)
                pos += len(chunk)
                i += 1
                if i % 2 == 0 or pos >= len(lost):
                    c.seg(c.resp(tr, 's', 0.00003), 's', ACK, ack=start + pos if pos < len(lost) else end)
                tr += 0.000013
            c.rcv['s'] = end
            t = c.resp(tr, 's', 0.00003)
        t = c.exchange(t, 's', srv.data_end(rng, 'ok', '').encode(), rng.uniform(0.05, 0.5), delayed_ack=False)
        t = c.exchange(t, 'c', b'QUIT\r\n', cp)
        t = c.exchange(t, 's', b'221 2.0.0 Bye\r\n', 0.0003)
        c.close(t, 'c', 0.0001)
        return c.ev

    # --- other traffic -------------------------------------------------------
    def bulk(self, t0):
        """HTTPS-like bulk transfer (TLS application-data records), download or upload."""
        rng = self.rng
        v6 = rng.random() < 0.3
        c = self.tcp(v6, 'c', 443, rng.uniform(0.005, 0.12))
        t = c.handshake(t0)
        t = c.exchange(t, 'c', self.tls_record(0x16, rng.randint(220, 600)), 0.0001)
        t = c.exchange(t, 's', self.tls_record(0x16, rng.randint(3000, 6000)), 0.002)
        t = c.exchange(t, 'c', self.tls_record(0x14, 1) + self.tls_record(0x17, rng.randint(60, 400)), 0.0005)
        size = int(rng.lognormvariate(12.6, 1.0))  # median ~300 KB
        size = max(20000, min(size, 6000000))
        payload = self.tls_records(size)
        who = 's' if rng.random() < 0.8 else 'c'
        self.count('bulk 443 ' + ('download' if who == 's' else 'upload'))
        t = c.stream(c.resp(t, who, 0.001), who, payload)
        c.close(t, 'c', 0.01)
        return c.ev

    def dns(self, t0):
        rng = self.rng
        qname = rng.choice((
            '%d.%d.2.0.192.zen.example.org' % (rng.randint(1, 253), rng.randint(1, 9)),
            'mx%d.%s' % (rng.randint(1, 4), rng.choice(DOMAINS)),
            rng.choice(DOMAINS),
            '_dmarc.%s' % rng.choice(DOMAINS),
            'selector1._domainkey.%s' % rng.choice(DOMAINS),
        ))
        if qname.startswith('_dmarc') or '_domainkey' in qname:
            qtype = 16
        elif 'zen' in qname:
            qtype = 1
        elif qname.startswith('mx'):
            qtype = rng.choice((1, 28))
        else:
            qtype = 15
        tid = rng.getrandbits(16)
        q = b''.join(bytes([len(p)]) + p.encode() for p in qname.split('.')) + b'\0' + struct.pack('!HH', qtype, 1)
        query = struct.pack('!HHHHHH', tid, 0x0100, 1, 0, 0, 1) + q + b'\0\0\x29\x04\xd0\0\0\0\0\0\0'
        nx = 'zen' in qname and rng.random() < 0.9
        if nx:
            ans = b''
            flags, an = 0x8183, 0
        else:
            flags, an = 0x8180, 1
            if qtype == 1:
                rdata = rand_ip4(rng) if 'zen' not in qname else bytes((127, 0, 0, rng.choice((2, 3, 4, 10))))
            elif qtype == 28:
                rdata = rand_ip6(rng, '2001:db8:3::')
            elif qtype == 15:
                nm = 'mx%d' % rng.randint(1, 4)
                rdata = struct.pack('!H', 10) + bytes([len(nm)]) + nm.encode() + b'\xc0\x0c'
            else:
                txt = (b'v=DMARC1; p=reject; rua=mailto:dmarc@example.org' if qname.startswith('_dmarc')
                       else b'v=DKIM1; k=rsa; p=' + base64.b64encode(self.pool[:160]))
                rdata = bytes([len(txt)]) + txt
            ans = b'\xc0\x0c' + struct.pack('!HHIH', qtype, 1, rng.randint(60, 86400), len(rdata)) + rdata
        resp = struct.pack('!HHHHHH', tid, flags, 1, an, 0, 1) + q + ans + b'\0\0\x29\x04\xd0\0\0\0\0\0\0'
        sport = rng.randint(1024, 65535)
        self.ipid_me = (self.ipid_me + 1) & 0xffff
        ev = [(t0, udp_frame(RESOLVER_MAC, MY_MAC, ME4, RESOLVER, sport, 53, query, ipid=self.ipid_me))]
        t1 = t0 + rng.choice((0.0002, 0.0004, 0.001, 0.015, 0.04, 0.12))
        ev.append((t1, udp_frame(MY_MAC, RESOLVER_MAC, RESOLVER, ME4, 53, sport, resp,
                                 ipid=rng.getrandbits(16))))
        self.count('dns query+response')
        return ev

    def ping(self, t0):
        rng = self.rng
        dst = rand_ip4(rng)
        ident = rng.getrandbits(16)
        rtt = rng.uniform(0.005, 0.1)
        ev = []
        t = t0
        for seq in range(1, rng.randint(4, 10) + 1):
            data = struct.pack('!II', int(t), int((t % 1) * 1e6)) + bytes(range(16, 64))
            self.ipid_me = (self.ipid_me + 1) & 0xffff
            ev.append((t, icmp4_frame(GW_MAC, MY_MAC, ME4, dst, 8, 0, struct.pack('!HH', ident, seq), data,
                                      ipid=self.ipid_me, ttl=64, df=True)))
            if rng.random() > 0.03:
                ev.append((t + rtt * rng.uniform(0.95, 1.2),
                           icmp4_frame(MY_MAC, GW_MAC, dst, ME4, 0, 0, struct.pack('!HH', ident, seq), data,
                                       ipid=rng.getrandbits(16), ttl=rng.randint(50, 60))))
            t += 1.0 + rng.uniform(-0.001, 0.001)
        self.count('icmp echo series')
        return ev

    def flow(self, t0):
        k = self.rng.choices(('smtp', 'bulk', 'dns', 'ping'), (70, 2.6, 240, 6))[0]
        if k == 'smtp':
            return self.smtp_session(t0)
        if k == 'bulk':
            return self.bulk(t0)
        if k == 'dns':
            return self.dns(t0)
        return self.ping(t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('-o', '--output', required=True)
    ap.add_argument('--packets', type=int, default=1000000, help='at least this many packets (default 1000000)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--rate', type=float, default=55.0, help='new flows per second (default 55)')
    ap.add_argument('--stats', action='store_true', help='print what was generated')
    args = ap.parse_args()

    g = Gen(args.seed)
    w = PcapWriter(args.output)
    heap = []
    serial = 0
    scheduled = 0
    next_start = START
    t_begin = time.time()
    last_ts = 0.0
    while True:
        spawning = scheduled < args.packets
        if spawning and (not heap or next_start <= heap[0][0]):
            ev = g.flow(next_start)
            ev.sort(key=lambda e: e[0])
            scheduled += len(ev)
            heapq.heappush(heap, (ev[0][0], serial, 0, ev))
            serial += 1
            next_start += g.rng.expovariate(args.rate)
            continue
        if not heap:
            break
        ts, s, i, ev = heapq.heappop(heap)
        if ts < last_ts:
            ts = last_ts
        w.write(ts, ev[i][1])
        last_ts = ts
        i += 1
        if i < len(ev):
            heapq.heappush(heap, (ev[i][0], s, i, ev))
    w.close()
    sys.stderr.write('%s: %d packets, %d flows, %.0f s of traffic, generated in %.1f s\n' % (
        args.output, w.count, serial, last_ts - START, time.time() - t_begin))
    if args.stats:
        for k in sorted(g.stats):
            sys.stderr.write('  %8d  %s\n' % (g.stats[k], k))


if __name__ == '__main__':
    main()
