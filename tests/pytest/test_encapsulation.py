"""The plugin reads IP and TCP from the frame's bytes wherever the IP
dissector found them: the same capture wrapped in other link layers (802.1Q
VLAN tags, Linux cooked capture v1) must give the very same findings.

The wrapped copies are derived from real captures at test time (the frames'
Ethernet headers are rewritten; IP, TCP and SMTP bytes are untouched)."""
import os
import shutil
import struct
import subprocess

import pytest

FIELDS = ["frame.number", "smtp_delivery.reply.code", "smtp_delivery.reply.enhanced",
          "smtp_delivery.reply.command", "smtp_delivery.reply.request_in", "smtp_delivery.reply.cause",
          "smtp_delivery.pmtu.verdict", "smtp_delivery.pmtu.blackhole", "smtp_delivery.session.outcome",
          "smtp_delivery.session.client", "smtp_delivery.session.server"]

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL = 113


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, _, _, _, _, snaplen, linktype = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xA1B2C3D4, "expects a little-endian microsecond pcap"
    records, off = [], 24
    while off < len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        records.append((sec, usec, orig, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return linktype, snaplen, records


def write_pcap(path, linktype, snaplen, records):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen + 64, linktype))
        for sec, usec, orig, frame in records:
            f.write(struct.pack("<IIII", sec, usec, len(frame), orig))
            f.write(frame)


def vlan(frame):
    # Two stacked 802.1Q tags between the MAC addresses and the EtherType.
    return frame[:12] + b"\x81\x00\x00\x64" + b"\x81\x00\x00\xc8" + frame[12:]


def linux_sll(frame):
    # Linux cooked capture v1: packet type, ARPHRD_ETHER, address length 6,
    # the source MAC padded to 8 bytes, then the EtherType.
    return struct.pack(">HHH", 0, 1, 6) + frame[6:12] + b"\x00\x00" + frame[12:]


@pytest.fixture(scope="module")
def wrapped(tshark):
    """capture name -> {variant: path} of pcap copies readable by tshark's user."""
    out = {}
    work = tshark.captures
    for name in ["postfix-replies.pcapng", "pmtu-blackhole-v4-1400.pcapng", "pmtu-blackhole-v6-1400.pcapng"]:
        plain = work / (name + ".plain.pcap")
        subprocess.run(["editcap", "-F", "pcap", str(work / name), str(plain)], check=True,
                       capture_output=True, timeout=120)
        linktype, snaplen, records = read_pcap(plain)
        assert linktype == LINKTYPE_ETHERNET
        variants = {"ethernet": plain}
        for variant, wrap, lt in [("vlan", vlan, LINKTYPE_ETHERNET), ("sll", linux_sll, LINKTYPE_LINUX_SLL)]:
            path = work / f"{name}.{variant}.pcap"
            write_pcap(path, lt, snaplen, [(s, u, o + len(wrap(fr)) - len(fr), wrap(fr)) for s, u, o, fr in records])
            variants[variant] = path
        for p in variants.values():
            os.chmod(p, 0o644)
        out[name] = variants
    return out


@pytest.mark.parametrize("capture", ["postfix-replies.pcapng", "pmtu-blackhole-v4-1400.pcapng",
                                     "pmtu-blackhole-v6-1400.pcapng"])
@pytest.mark.parametrize("variant", ["vlan", "sll"])
def test_other_link_layers_give_the_same_findings(tshark, wrapped, capture, variant):
    def rows(path):
        return tshark.fields(os.path.basename(path), FIELDS, "smtp_delivery")

    base = rows(wrapped[capture]["ethernet"])
    assert len(base) > 3
    assert rows(wrapped[capture][variant]) == base
