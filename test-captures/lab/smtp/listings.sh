#!/bin/bash
# Print the reply listings used in test-captures/README.md, and count the
# distinct basic and enhanced status codes per capture.
#   bash test-captures/lab/smtp/listings.sh [FILE.pcapng ...]
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(postfix-replies.pcapng postfix-limits.pcapng postfix-bdat.pcapng
    submission-587-starttls-required.pcapng starttls-keylog.pcapng nonstandard-port.pcapng
    vendor-replies.pcapng malformed-replies.pcapng)
for f in "${files[@]}"; do
    d=()
    case $f in nonstandard-port*) d=(-d tcp.port==2525,smtp) ;; esac
    echo "### $f"
    tshark -r "$f" "${d[@]}" -Y smtp.response -T fields \
        -e frame.number -e smtp.response.code -e smtp.response 2>/dev/null
    basic=$(tshark -r "$f" "${d[@]}" -Y smtp.response -T fields -E occurrence=a \
        -e smtp.response.code 2>/dev/null | tr ',' '\n' | grep . | sort -un | tr '\n' ' ')
    enh=$(tshark -r "$f" "${d[@]}" -Y smtp.response -T fields -E aggregator='|' \
        -e smtp.rsp.parameter 2>/dev/null | tr '|' '\n' |
        grep -oE '^[245]\.[0-9]{1,3}\.[0-9]{1,3}( |$)' | tr -d ' ' | sort -uV | tr '\n' ' ')
    echo "# basic codes ($(wc -w <<<"$basic")): $basic"
    echo "# enhanced codes ($(wc -w <<<"$enh")): $enh"
    echo
done
