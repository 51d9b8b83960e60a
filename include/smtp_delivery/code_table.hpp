// Compiled-in SMTP reply knowledge: class and subject meanings, basic reply
// codes, the IANA enhanced status code registry, vendor readings, text rules
// for the likely cause, and the cause labels with advice.
//
// Facts (codes, registry entries, vendor names) come from RFC 5321 and its
// extensions, the IANA "SMTP Enhanced Status Codes" registry and vendor
// documentation; every meaning and advice text is written for this project.
//
// Sorting contracts (checked by static_assert at the end of this file):
//   kBasicCodes    strictly ascending by code            -> binary search
//   kEnhancedCodes strictly ascending by (klass, subject, detail)
//   kCauses        row i describes Cause(i)
// kVendorRows and kCauseTextRules are ordered by priority (first match wins).
#pragma once

#include "smtp_delivery/knowledge_types.hpp"

#include <array>
#include <cstddef>

namespace smtp_delivery {

// Meaning of the first digit of a basic reply code (subject = class digit).
inline constexpr std::array<SubjectRow, 4> kClassMeanings{{
    {2, "Success: the server did what was asked"},
    {3, "Intermediate: accepted so far; the server waits for more input (message body, AUTH data)"},
    {4, "Transient failure: not done now, but the same request may work when retried later"},
    {5, "Permanent failure: do not retry unchanged; the address, message or setup must change first"},
}};

// Basic reply codes: RFC 5321, SMTP extensions, codes that only appear in the
// IANA enhanced-code registry, and non-standard codes met in the field.
// "Folk" codes 441..543 are enhanced codes written without dots by some
// log tools and web lists; they are not sent as basic codes by real servers.
inline constexpr std::array<BasicCodeRow, 58> kBasicCodes{{
    {211, "System status, or reply to a HELP-style information request", "RFC 5321"},
    {214, "Help text meant for a human reader", "RFC 5321"},
    {220, "Greeting: the server is ready (also the go-ahead to start TLS after STARTTLS)", "RFC 5321"},
    {221, "The server is closing the connection, normally in answer to QUIT", "RFC 5321"},
    {235, "SMTP AUTH succeeded; the client is now logged in", "RFC 4954"},
    {250, "The command was carried out", "RFC 5321"},
    {251, "The recipient is not local; the server will forward the mail itself", "RFC 5321"},
    {252, "The server will not confirm the address (VRFY) but will still try to deliver", "RFC 5321"},
    {253, "ETRN: delivery of the messages queued for the node has been started", "RFC 1985"},
    {334, "AUTH in progress: base64 challenge from the server, the client must answer", "RFC 4954"},
    {354, "Go ahead and send the message; end it with a line holding a single dot", "RFC 5321"},
    {355, "Checkpoint/restart: the server tells the offset to resume from (experimental)", "RFC 1845"},
    {420, "GroupWise GWIA transfer timeout (TCP read/write error); logged by the sending GWIA, not sent by a server", "GroupWise"},
    {421, "The server is closing the connection for a temporary reason; retry later", "RFC 5321"},
    {422, "Only listed in the IANA registry next to X.7.12 (password transition needed); rare on the wire", "IANA registry"},
    {430, "Only listed in the IANA registry next to X.5.1 (invalid command); no RFC 5321 meaning", "IANA registry"},
    {432, "AUTH: log in once with PLAIN to set up the chosen mechanism (Exchange reuses it for throttling)", "RFC 4954"},
    {441, "Folk code, really 4.4.1 without dots: the receiving server did not answer", "non-standard"},
    {442, "Folk code, really 4.4.2 without dots: the connection broke during the transfer", "non-standard"},
    {446, "Folk code, really 4.4.6 without dots: too many hops, the message is looping", "non-standard"},
    {447, "Folk code, really 4.4.7 without dots: delivery timed out or the message expired in the queue", "non-standard"},
    {449, "Folk code, really 4.4.9 without dots (Exchange): routing or smart host DNS problem", "non-standard"},
    {450, "Not done for now: mailbox busy or unavailable, or deferred by policy (often greylisting)", "RFC 5321"},
    {451, "Aborted because of a local error on the server; retry later", "RFC 5321"},
    {452, "Not done for now: the server is short of storage, or too many recipients were given", "RFC 5321"},
    {453, "ATRN: there is no mail waiting for the client", "RFC 2645"},
    {454, "Temporary AUTH failure, or TLS not available right now; retry later", "RFC 4954, RFC 3207"},
    {455, "The server cannot handle the given MAIL/RCPT parameters at the moment", "RFC 5321"},
    {458, "ETRN: the server cannot queue messages for that node right now", "RFC 1985"},
    {459, "ETRN: this node may not request its queue", "RFC 1985"},
    {471, "Folk code, really 4.7.1 without dots: temporary refusal, usually a filter or local trouble", "non-standard"},
    {500, "Command not recognised or line too long (also an over-long AUTH answer)", "RFC 5321"},
    {501, "The arguments or parameters of the command are malformed", "RFC 5321"},
    {502, "The server does not implement this command", "RFC 5321"},
    {503, "Commands arrived in the wrong order (e.g. RCPT before MAIL, or a second AUTH)", "RFC 5321"},
    {504, "A parameter of the command is not implemented (e.g. an unknown AUTH mechanism)", "RFC 5321"},
    {510, "Folk code, really 5.1.0 without dots: something is wrong with an address", "non-standard"},
    {511, "Folk code, really 5.1.1 without dots: the recipient mailbox does not exist", "non-standard"},
    {512, "Folk code, really 5.1.2 without dots: the recipient's domain was not found in DNS", "non-standard"},
    {513, "Folk code, really 5.1.3 without dots: the address is not syntactically valid", "non-standard"},
    {521, "This host never accepts mail; do not retry it", "RFC 7504"},
    {523, "Only in the IANA registry next to X.7.10 (encryption needed); Gmail uses it for a STARTTLS violation", "IANA registry"},
    {524, "Only in the IANA registry next to X.7.11: the AUTH mechanism needs an encrypted session", "IANA registry"},
    {525, "Only in the IANA registry next to X.7.13: the user account is disabled", "IANA registry"},
    {530, "Authentication is required first, or STARTTLS must be issued first", "RFC 4954, RFC 3207"},
    {533, "Only in the IANA registry next to X.7.1: delivery not authorised", "IANA registry"},
    {534, "The chosen AUTH mechanism is weaker than the server allows for this user", "RFC 4954"},
    {535, "AUTH failed: wrong or insufficient credentials", "RFC 4954"},
    {538, "This AUTH mechanism may only be used over an encrypted connection", "RFC 4954"},
    {541, "Folk code, really 5.4.1 without dots: the receiving host did not answer, or relay was refused", "non-standard"},
    {543, "Folk code, really 5.4.3 without dots: routing server failure, no route available", "non-standard"},
    {550, "Refused for good: mailbox missing or not accessible, or rejected by policy", "RFC 5321"},
    {551, "The user is not local; the client should send to the forward path given", "RFC 5321"},
    {552, "Aborted: a storage limit was exceeded (mailbox quota or message size)", "RFC 5321"},
    {553, "Not done: the mailbox name is not allowed (usually a malformed address)", "RFC 5321"},
    {554, "Transaction failed; as a greeting it means there is no SMTP service here", "RFC 5321"},
    {555, "MAIL FROM / RCPT TO parameters not recognised or not implemented", "RFC 5321"},
    {556, "The recipient domain does not accept mail (null MX); reported by a relay", "RFC 7504"},
}};

// Meaning of the subject digit of an enhanced status code (X.s.YYY).
inline constexpr std::array<SubjectRow, 8> kSubjects{{
    {0, "Other or undefined: the code names no particular area"},
    {1, "Addressing: the sender or recipient address (syntax, existence, validity)"},
    {2, "Mailbox: the recipient's mailbox (full, disabled, own size limit)"},
    {3, "Mail system: the receiving system itself (storage, load, configuration, features)"},
    {4, "Network and routing: connections, DNS, next-hop routing, loops and queue expiry"},
    {5, "Mail delivery protocol: SMTP commands, syntax, sequence and protocol limits"},
    {6, "Message content or media: format, encoding and conversion of the message"},
    {7, "Security or policy: filtering, authentication, TLS and sender checks"},
}};

// IANA SMTP Enhanced Status Codes registry, enumerated codes (class X = 0).
// Complete as of the 2020-09 registry copy (X.0.0 .. X.7.30). No later
// registration could be confirmed when this table was written.
// After them, class-specific readings (looked up first): the registry words
// its X.s.0 entries as problems, but servers send 2.s.0 on success (Postfix
// "250 2.1.0 Ok" to MAIL, Exchange "250 2.6.0 Queued mail for delivery").
inline constexpr std::array<EnhancedCodeRow, 89> kEnhancedCodes{{
    // X.0.YYY
    {0, 0, 0, "Unspecified status; only the class (success / temporary / permanent) is known", Cause::none},
    // X.1.YYY
    {0, 1, 0, "Some problem with an envelope address, not further specified", Cause::none},
    {0, 1, 1, "The recipient mailbox does not exist (the part left of the @ is wrong)", Cause::unknown_recipient},
    {0, 1, 2, "The recipient's domain or mail system does not exist or cannot take mail", Cause::routing},
    {0, 1, 3, "The recipient address is not syntactically valid", Cause::syntax},
    {0, 1, 4, "The recipient address matches more than one mailbox at the destination", Cause::none},
    {0, 1, 5, "The recipient address is valid (positive report)", Cause::none},
    {0, 1, 6, "The mailbox used to exist but no longer takes mail, and no forwarding address is known", Cause::unknown_recipient},
    {0, 1, 7, "The sender address is not syntactically valid", Cause::sender_rejected},
    {0, 1, 8, "The sender's domain does not exist or cannot receive bounces", Cause::sender_rejected},
    {0, 1, 9, "Accepted, but passed to a system that cannot report any further status", Cause::none},
    {0, 1, 10, "The recipient domain publishes a null MX: it accepts no mail at all", Cause::routing},
    // X.2.YYY
    {0, 2, 0, "The mailbox exists, but something about it stopped the delivery", Cause::none},
    {0, 2, 1, "The mailbox exists but is disabled and not taking messages", Cause::unknown_recipient},
    {0, 2, 2, "The recipient mailbox is over its quota or out of space", Cause::mailbox_full},
    {0, 2, 3, "The message is larger than this mailbox's own size limit", Cause::message_too_large},
    {0, 2, 4, "The address is a mailing list that could not be expanded", Cause::none},
    // X.3.YYY
    {0, 3, 0, "The destination system had some problem of its own with this message", Cause::server_error},
    {0, 3, 1, "The destination mail system has run out of storage", Cause::server_error},
    {0, 3, 2, "The destination host is not taking messages (shutdown, overload, maintenance)", Cause::service_unavailable},
    {0, 3, 3, "The destination cannot provide a feature the message asked for", Cause::none},
    {0, 3, 4, "The message exceeds the system-wide per-message size limit", Cause::message_too_large},
    {0, 3, 5, "The destination system is configured in a way that prevents accepting this message", Cause::server_error},
    {0, 3, 6, "Accepted, but the requested priority was changed (the new one is in the text)", Cause::none},
    // X.4.YYY
    {0, 4, 0, "Unspecified network or routing problem", Cause::network_error},
    {0, 4, 1, "The outbound connection attempt got no answer (host busy or unreachable)", Cause::network_error},
    {0, 4, 2, "Connected, but the transaction could not finish: timeout or bad connection quality", Cause::timeout},
    {0, 4, 3, "A directory service (typically DNS) was unavailable, so the message could not be routed", Cause::routing},
    {0, 4, 4, "No next hop could be determined from the available routing data (e.g. DNS)", Cause::routing},
    {0, 4, 5, "The mail system is congested and could not deliver right now", Cause::service_unavailable},
    {0, 4, 6, "The message went round a loop and was forwarded too many times", Cause::routing},
    {0, 4, 7, "The message grew too old before delivery (queue lifetime or sender time limit exceeded)", Cause::timeout},
    // X.5.YYY
    {0, 5, 0, "Unspecified SMTP protocol problem with the next hop", Cause::none},
    {0, 5, 1, "A command was sent out of sequence or is not supported", Cause::syntax},
    {0, 5, 2, "A command could not be understood: bad syntax or unknown command", Cause::syntax},
    {0, 5, 3, "More recipients than the server will take in one transaction", Cause::too_many_recipients},
    {0, 5, 4, "A known command carried arguments that are out of range or unsupported", Cause::syntax},
    {0, 5, 5, "Client and server could not agree on a protocol version", Cause::syntax},
    {0, 5, 6, "The client's AUTH answer line was longer than the server can buffer", Cause::syntax},
    // X.6.YYY
    {0, 6, 0, "Unspecified problem with the message content", Cause::content_rejected},
    {0, 6, 1, "The message's media type is not supported on the delivery path", Cause::content_rejected},
    {0, 6, 2, "The content would have to be converted, but conversion is forbidden", Cause::content_rejected},
    {0, 6, 3, "The content needs converting (e.g. 8-bit to 7-bit) and no host on the path can do it", Cause::content_rejected},
    {0, 6, 4, "Delivered, but a conversion on the way lost some data", Cause::none},
    {0, 6, 5, "A required content conversion was attempted and failed", Cause::content_rejected},
    {0, 6, 6, "The message content could not be fetched from the remote source (BURL)", Cause::none},
    {0, 6, 7, "Non-ASCII addresses are not allowed for this sender or recipient (SMTPUTF8)", Cause::none},
    {0, 6, 8, "A UTF-8 reply is needed to show the mailbox, but the client did not allow one", Cause::none},
    {0, 6, 9, "The message has UTF-8 header fields that cannot be passed on to some recipients", Cause::none},
    {0, 6, 10, "Deprecated duplicate of X.6.8", Cause::none},
    // X.7.YYY
    {0, 7, 0, "Unspecified security or policy reason", Cause::policy},
    {0, 7, 1, "The sender may not send to this recipient (per-host or per-recipient filtering, relay policy)", Cause::policy},
    {0, 7, 2, "The sender may not post to this mailing list", Cause::policy},
    {0, 7, 3, "A required conversion between secure messaging formats was not possible", Cause::none},
    {0, 7, 4, "The message uses security features the delivery path cannot support", Cause::none},
    {0, 7, 5, "A cryptographic check or decryption failed (missing or invalid key or certificate)", Cause::none},
    {0, 7, 6, "A cryptographic algorithm needed for the message is not supported", Cause::none},
    {0, 7, 7, "Integrity check failed: the message was damaged or altered in transit", Cause::none},
    {0, 7, 8, "AUTH failed: the credentials are invalid or not sufficient", Cause::auth_failed},
    {0, 7, 9, "The chosen AUTH mechanism is weaker than this user's policy allows", Cause::auth_failed},
    {0, 7, 10, "An encryption layer (e.g. TLS) is needed before this AUTH mechanism can be used", Cause::tls_required},
    {0, 7, 11, "This AUTH mechanism is only allowed over an encrypted connection", Cause::tls_required},
    {0, 7, 12, "The user must log in once with PLAIN before the chosen AUTH mechanism works", Cause::auth_failed},
    {0, 7, 13, "Login worked, but an administrator has disabled the account", Cause::auth_failed},
    {0, 7, 14, "The submission server needs a trust relationship with a third party to fetch the content", Cause::policy},
    {0, 7, 15, "The message priority is below what the server accepts at the moment", Cause::policy},
    {0, 7, 16, "The message is too large for the priority it requested", Cause::message_too_large},
    {0, 7, 17, "The recipient mailbox changed owner since the date the sender gave (RRVS)", Cause::unknown_recipient},
    {0, 7, 18, "The recipient domain changed owner since the date the sender gave (RRVS)", Cause::unknown_recipient},
    {0, 7, 19, "The RRVS ownership check could not be done (no timestamp recorded)", Cause::none},
    {0, 7, 20, "No DKIM signature on the message verified", Cause::spf_dkim_dmarc},
    {0, 7, 21, "Some DKIM signatures verified, but none is acceptable to the receiver", Cause::spf_dkim_dmarc},
    {0, 7, 22, "No valid DKIM signature matches the author (From:) domain", Cause::spf_dkim_dmarc},
    {0, 7, 23, "SPF returned fail for the sending IP and local policy rejects that", Cause::spf_dkim_dmarc},
    {0, 7, 24, "SPF evaluation ended in an error (DNS trouble or a broken record)", Cause::spf_dkim_dmarc},
    {0, 7, 25, "The client IP failed the reverse DNS check (missing or mismatching PTR)", Cause::reverse_dns},
    {0, 7, 26, "More than one sender authentication check failed", Cause::spf_dkim_dmarc},
    {0, 7, 27, "The sender domain publishes a null MX, so bounces could not be returned", Cause::sender_rejected},
    {0, 7, 28, "The message looks like part of a flood of similar abusive mail", Cause::rate_limit},
    {0, 7, 29, "ARC validation of the message failed", Cause::spf_dkim_dmarc},
    {0, 7, 30, "The message demands REQUIRETLS but no next-hop server supports it", Cause::tls_required},
    // 2.s.0: success, read per subject
    {2, 0, 0, "Done; the code adds nothing to the success itself", Cause::none},
    {2, 1, 0, "The envelope address is accepted (usually the sender; accepted recipients get 2.1.5)", Cause::none},
    {2, 2, 0, "Success as far as the recipient's mailbox is concerned, no further detail", Cause::none},
    {2, 3, 0, "The receiving mail system reports success, no further detail", Cause::none},
    {2, 4, 0, "Success as far as network and routing are concerned, no further detail", Cause::none},
    {2, 5, 0, "The protocol step succeeded, no further detail", Cause::none},
    {2, 6, 0, "The message content is accepted (often: queued for delivery)", Cause::none},
    {2, 7, 0, "A security or policy step succeeded (authentication passed, or TLS may start)", Cause::none},
}};

// Vendor and provider readings, in priority order (most specific first).
// Enhanced codes with a detail >= 100 are outside the IANA registry.
inline constexpr std::array<VendorRow, 109> kVendorRows{{
    {"GroupWise", 420, {}, 0, "tcp write error", "GWIA could not send data before its timeout; usually the path (MTU black hole, firewall); GWIA's own log", Cause::timeout},
    {"GroupWise", 420, {}, 0, "tcp read error", "GWIA waited too long for the remote reply and gave up; logged by GWIA itself, message deferred and retried", Cause::timeout},
    {"GroupWise", 420, {}, 0, "", "GroupWise timeout after connecting; written by the sending GWIA, not sent by the server; message is retried", Cause::timeout},
    {"Microsoft Exchange", 432, {4, 3, 2}, 0, "", "Store driver throttling: the recipient mailbox or database gets too many messages at once (thread limit)", Cause::rate_limit},
    {"Microsoft 365", 421, {4, 3, 2}, 0, "concurrent connections", "Too many concurrent connections to the Exchange Online resource forest; the session is closed", Cause::too_many_connections},
    {"sendmail", 0, {4, 3, 2}, 0, "connection rate limit", "Sendmail ConnectionRateThrottle: the client opened new connections faster than allowed", Cause::rate_limit},
    {"sendmail", 0, {4, 3, 2}, 0, "connection rate", "Sendmail-based ISP throttling of how fast one IP may open new connections", Cause::rate_limit},
    {"Microsoft Exchange", 0, {4, 3, 2}, 0, "", "Exchange is not accepting mail: queue frozen by an admin, or back pressure from low disk or memory", Cause::service_unavailable},
    {"Gmail", 451, {4, 4, 2}, 0, "timeout", "Gmail closed an idle or too slow session; look for a stalled transfer", Cause::timeout},
    {"Microsoft Exchange", 0, {4, 4, 2}, 0, "connection dropped", "Exchange saw the connection drop during the transfer (socket error)", Cause::network_error},
    {"Microsoft Exchange", 0, {4, 4, 7}, 0, "", "Message expired in the queue, or the remote side timed out the protocol (e.g. header limits)", Cause::timeout},
    {"Microsoft Exchange", 0, {4, 4, 9}, 0, "", "Bad routing setup: smart host or DNS-based connector problem, or a deleted routing group", Cause::routing},
    {"Microsoft Exchange", 0, {4, 6, 5}, 0, "", "Content conversion failed; on Exchange usually a code page the server does not have installed", Cause::content_rejected},
    {"Microsoft 365", 0, {4, 4, 316}, 0, "", "Exchange Online could not connect to the destination server (connection refused)", Cause::network_error},
    {"Microsoft 365", 0, {4, 4, 8}, 0, "mta-sts", "The destination's MX hosts failed MTA-STS validation", Cause::tls_required},
    {"Microsoft 365", 0, {5, 4, 8}, 0, "mta-sts", "The destination's MX hosts failed MTA-STS validation", Cause::tls_required},
    {"Microsoft 365", 0, {4, 7, 5}, 0, "mta-sts", "The remote certificate did not pass MTA-STS validation", Cause::tls_required},
    {"Microsoft 365", 0, {5, 7, 5}, 0, "mta-sts", "The remote certificate did not pass MTA-STS validation", Cause::tls_required},
    {"Microsoft 365", 0, {4, 7, 26}, 0, "ipv6", "Mail sent over IPv6 must pass SPF or DKIM at Microsoft", Cause::spf_dkim_dmarc},
    {"Microsoft 365", 0, {4, 7, 321}, 0, "", "DANE: the destination must support STARTTLS but does not offer it", Cause::tls_required},
    {"Microsoft 365", 0, {5, 7, 321}, 0, "", "DANE: the destination must support STARTTLS but does not offer it", Cause::tls_required},
    {"Microsoft 365", 0, {4, 7, 322}, 0, "", "DANE: the destination's certificate has expired", Cause::tls_required},
    {"Microsoft 365", 0, {5, 7, 322}, 0, "", "DANE: the destination's certificate has expired", Cause::tls_required},
    {"Microsoft 365", 0, {4, 7, 323}, 0, "", "DANE: the certificate does not match the published TLSA record", Cause::tls_required},
    {"Microsoft 365", 0, {5, 7, 323}, 0, "", "DANE: the certificate does not match the published TLSA record", Cause::tls_required},
    {"Microsoft 365", 0, {4, 7, 324}, 0, "", "DANE: DNSSEC validation of the destination's records failed", Cause::tls_required},
    {"Microsoft 365", 0, {5, 7, 324}, 0, "", "DANE: DNSSEC validation of the destination's records failed", Cause::tls_required},
    {"Microsoft 365", 0, {4, 7, 325}, 0, "", "DANE: the certificate's host name does not match the destination", Cause::tls_required},
    {"Microsoft 365", 0, {5, 7, 325}, 0, "", "DANE: the certificate's host name does not match the destination", Cause::tls_required},
    {"Microsoft 365", 0, {4, 7, 500}, 699, "", "Microsoft temporarily restricts this sender after suspicious traffic; slow down and retry", Cause::rate_limit},
    {"Microsoft 365", 0, {4, 7, 850}, 899, "", "Microsoft temporarily restricts the sending IP; lower the volume and retry later", Cause::rate_limit},
    {"Microsoft 365", 0, {5, 7, 606}, 649, "", "The sending IP is banned by Microsoft; request delisting through its delist portal", Cause::blocklist},
    {"Microsoft 365", 0, {5, 7, 501}, 0, "", "The sending account was blocked for sending spam", Cause::sender_rejected},
    {"Microsoft 365", 0, {5, 7, 502}, 0, "", "Banned sender: Microsoft refuses mail from this sender", Cause::sender_rejected},
    {"Microsoft 365", 0, {5, 7, 503}, 0, "", "Banned sender: Microsoft refuses mail from this sender", Cause::sender_rejected},
    {"Microsoft 365", 0, {5, 7, 506}, 0, "", "The HELO/EHLO name the client sent is refused by Microsoft", Cause::helo},
    {"Microsoft 365", 0, {5, 7, 507}, 0, "", "The recipient organisation blocks the sending IP", Cause::policy},
    {"Microsoft 365", 0, {5, 7, 508}, 0, "", "The sending IPv6 range exceeded the limits Microsoft allows", Cause::rate_limit},
    {"Microsoft 365", 0, {5, 7, 509}, 0, "", "The sending domain fails DMARC and publishes p=reject", Cause::spf_dkim_dmarc},
    {"Microsoft 365", 0, {5, 7, 510}, 0, "", "The recipient does not accept mail over IPv6; send over IPv4", Cause::policy},
    {"Microsoft 365", 0, {5, 7, 511}, 0, "", "The sending IP is banned; request delisting from Microsoft", Cause::blocklist},
    {"Microsoft 365", 0, {5, 7, 512}, 0, "", "The message has no valid RFC 5322 From: header", Cause::content_rejected},
    {"Microsoft 365", 0, {5, 7, 513}, 0, "", "The recipient's own block list rejects the client host", Cause::policy},
    {"Microsoft 365", 0, {5, 7, 57}, 0, "", "Anonymous submission refused: the client must authenticate before MAIL FROM", Cause::auth_required},
    {"Microsoft 365", 0, {5, 7, 64}, 0, "", "Tenant attribution failed: Exchange Online will not relay for this connector or IP", Cause::relay_denied},
    {"Microsoft 365", 0, {5, 7, 705}, 0, "", "The tenant exceeded a sending threshold (often after a spam outbreak)", Cause::rate_limit},
    {"Microsoft 365", 0, {5, 7, 708}, 0, "", "Exchange Online does not accept traffic from this IP (poor reputation)", Cause::blocklist},
    {"Microsoft 365", 0, {5, 7, 750}, 0, "", "The client tried to send from domains not registered in the tenant", Cause::sender_rejected},
    {"Microsoft 365", 0, {5, 7, 23}, 0, "", "The sending IP is not allowed by the sender domain's SPF record", Cause::spf_dkim_dmarc},
    {"Microsoft 365", 0, {5, 7, 25}, 0, "reverse dns", "An IPv6 sending address must have a reverse DNS (PTR) record", Cause::reverse_dns},
    {"Microsoft 365", 550, {5, 1, 10}, 0, "not found", "Not the null-MX code here: Exchange Online found no such recipient in its directory", Cause::unknown_recipient},
    {"Microsoft 365", 0, {5, 1, 90}, 0, "", "The sender reached its daily recipient limit", Cause::rate_limit},
    {"Microsoft 365", 0, {5, 2, 121}, 0, "", "The recipient's hourly limit for mail from this sender was exceeded", Cause::rate_limit},
    {"Microsoft 365", 0, {5, 2, 122}, 0, "", "The recipient's hourly limit for incoming mail was exceeded", Cause::rate_limit},
    {"Microsoft 365", 0, {5, 2, 2}, 0, "submission quota", "The sender exceeded its submission quota (recipient or message rate limit)", Cause::rate_limit},
    {"Microsoft 365", 0, {5, 6, 11}, 0, "", "Bare line feeds in the message and the receiver lacks BDAT, so the message is refused", Cause::syntax},
    {"Microsoft 365", 0, {5, 4, 1}, 0, "relay access denied", "The receiving tenant will not accept mail for this recipient domain (relay denied)", Cause::relay_denied},
    {"Microsoft 365", 0, {5, 4, 1}, 0, "access denied", "Directory-based edge blocking: the recipient is not in the tenant directory", Cause::unknown_recipient},
    {"Microsoft Exchange", 0, {5, 4, 0}, 0, "", "DNS problem: check the smart host and DNS used to reach the destination", Cause::routing},
    {"Microsoft Exchange", 0, {5, 4, 3}, 0, "", "Routing server failure: no route to the destination is available", Cause::routing},
    {"Microsoft Exchange", 0, {5, 4, 4}, 0, "", "No route could be found for the recipient's domain", Cause::routing},
    {"Microsoft Exchange", 0, {5, 4, 14}, 0, "", "Routing loop detected in Exchange Online", Cause::routing},
    {"Microsoft Exchange", 0, {5, 4, 300}, 0, "", "The message expired in the queue before delivery", Cause::timeout},
    {"Microsoft Exchange", 421, {4, 0, 0}, 0, "server error", "Refused right after connect; often a connection filter, blocklist or missing PTR for the client", Cause::policy},
    {"Gmail", 421, {4, 7, 0}, 0, "low reputation", "Gmail throttles the client because of the poor reputation of its IP or domain", Cause::rate_limit},
    {"Gmail", 421, {4, 7, 0}, 0, "ptr record", "Gmail throttles the client because its IP has no PTR or the PTR does not point back", Cause::reverse_dns},
    {"Gmail", 421, {4, 7, 0}, 0, "not in whitelist", "The client IP is not on the allow list the recipient domain set for Gmail", Cause::policy},
    {"Gmail", 421, {4, 7, 0}, 0, "tls required", "The recipient domain requires TLS and the session is not encrypted", Cause::tls_required},
    {"Gmail", 421, {4, 7, 0}, 0, "connection expired", "Gmail closed a session that was open too long; reconnect", Cause::timeout},
    {"Gmail", 421, {4, 7, 0}, 0, "suspicious due to", "Gmail deferred the message because its content or links look suspicious", Cause::content_rejected},
    {"Gmail", 421, {4, 7, 0}, 0, "unusual rate", "Gmail saw an unusual rate of mail from this source and slows it down", Cause::rate_limit},
    {"Gmail", 421, {4, 7, 0}, 0, "rate limited", "Gmail rate-limits the client; reduce volume and retry later", Cause::rate_limit},
    {"Gmail", 421, {4, 7, 0}, 0, "try again later", "Gmail's abuse protection refused the session at this stage; back off and retry", Cause::rate_limit},
    {"Gmail", 0, {4, 7, 28}, 0, "", "Gmail saw an unusual rate of mail from this IP, netblock or domain and throttles it", Cause::rate_limit},
    {"Gmail", 421, {4, 7, 23}, 0, "", "Gmail throttles the client: no PTR record, or the PTR name does not resolve back", Cause::reverse_dns},
    {"Gmail", 550, {5, 7, 25}, 0, "", "Gmail rejects the client: no PTR record, or the PTR name does not resolve back", Cause::reverse_dns},
    {"Gmail", 421, {4, 7, 26}, 0, "", "Gmail throttles unauthenticated mail: the message passed neither SPF nor DKIM", Cause::spf_dkim_dmarc},
    {"Gmail", 451, {4, 7, 26}, 0, "", "Gmail could not check DMARC because of a temporary DNS failure", Cause::spf_dkim_dmarc},
    {"Gmail", 421, {4, 7, 27}, 0, "", "Gmail bulk-sender rule: SPF did not pass (Gmail's use, not the registry's null-MX meaning)", Cause::spf_dkim_dmarc},
    {"Gmail", 421, {4, 7, 29}, 0, "", "Gmail bulk-sender rule: the message was not sent over TLS", Cause::tls_required},
    {"Gmail", 421, {4, 7, 30}, 0, "", "Gmail bulk-sender rule: DKIM did not pass", Cause::spf_dkim_dmarc},
    {"Gmail", 421, {4, 7, 32}, 0, "", "Gmail bulk-sender rule: the From: domain aligns with neither the SPF nor the DKIM domain", Cause::spf_dkim_dmarc},
    {"Gmail", 451, {4, 7, 24}, 0, "", "Gmail found suspicious entries in the sender domain's SPF record and slows it down", Cause::spf_dkim_dmarc},
    {"Gmail", 450, {4, 2, 1}, 0, "relay limit", "The Google Workspace customer hit its peak SMTP relay limit", Cause::rate_limit},
    {"Gmail", 450, {4, 2, 1}, 0, "receiving mail", "The Gmail recipient is receiving mail too fast; resend later", Cause::rate_limit},
    {"Gmail", 452, {4, 2, 2}, 0, "", "The Gmail recipient's storage is full (account over quota)", Cause::mailbox_full},
    {"Gmail", 454, {4, 7, 0}, 0, "login attempts", "Too many failed logins; Google locked AUTH for a while", Cause::auth_failed},
    {"Gmail", 454, {4, 7, 0}, 0, "cannot authenticate", "Google could not authenticate the client because of a temporary problem", Cause::server_error},
    {"Gmail", 523, {5, 7, 10}, 0, "", "Commands were pipelined right after STARTTLS, before the TLS handshake", Cause::syntax},
    {"Gmail", 550, {5, 7, 1}, 0, "unsolicited", "Gmail judged the mail (or the rate of it) to be unsolicited", Cause::content_rejected},
    {"Gmail", 550, {5, 7, 26}, 0, "", "Gmail rejects unauthenticated mail: SPF fail, DMARC reject or no authentication", Cause::spf_dkim_dmarc},
    {"Gmail", 550, {5, 7, 28}, 0, "", "Gmail blocked the source for an unusual rate of unsolicited mail", Cause::content_rejected},
    {"Gmail", 550, {5, 4, 5}, 0, "relay limit", "The Google Workspace daily SMTP relay limit was exceeded", Cause::rate_limit},
    {"Yahoo", 0, {}, 0, "tss04", "Yahoo defers mail from this IP because of unexpected volume or user complaints", Cause::rate_limit},
    {"Yahoo", 0, {}, 0, "tss09", "Yahoo refuses all mail from this IP for now (reputation block)", Cause::blocklist},
    {"Yahoo", 0, {}, 0, "tss11", "Yahoo refuses all mail from this IP for now (reputation block)", Cause::blocklist},
    {"Yahoo", 421, {}, 0, "max message per connection", "Yahoo/AOL limit on messages per connection; open a new one", Cause::rate_limit},
    {"Yahoo", 450, {}, 0, "receiving mail too quickly", "The recipient gets mail too fast; resend later", Cause::rate_limit},
    {"Apple iCloud", 421, {4, 7, 1}, 0, "excessive volume", "iCloud defers the sender because of excessive volume", Cause::rate_limit},
    {"Telstra BigPond", 421, {}, 0, "message rejected", "Relay throttle: about 20 messages per 10 min, then ~20 min block (Adelphia used the same text)", Cause::rate_limit},
    {"Road Runner", 421, {}, 0, "exceeded allowable connection time", "Road Runner closed a session held open too long; back off and retry", Cause::rate_limit},
    {"GoDaddy", 421, {}, 0, "ib007", "Too many simultaneous sessions from this IP at GoDaddy", Cause::too_many_connections},
    {"GoDaddy", 421, {}, 0, "ib101", "GoDaddy's server is overloaded; retry later", Cause::service_unavailable},
    {"GoDaddy", 421, {}, 0, "ib108", "GoDaddy's reverse DNS check of the client IP failed", Cause::reverse_dns},
    {"GoDaddy", 0, {}, 0, "ib504", "The IP sent too many messages this hour to GoDaddy", Cause::rate_limit},
    {"GoDaddy", 0, {}, 0, "ib607", "The IP sent to too many recipients this hour at GoDaddy", Cause::rate_limit},
    {"Orange / La Poste", 421, {}, 0, "trop de connexions", "Orange / La Poste: too many connections from this IP", Cause::too_many_connections},
    {"Orange", 421, {}, 0, "service refuse", "Orange refused service for now; retry later", Cause::service_unavailable},
    {"SocketLabs", 421, {4, 5, 1}, 0, "too many errors", "The IP caused too many errors in a short time and is blocked temporarily", Cause::policy},
}};

// Cause from the reply text: lower-case needles, specific before generic;
// first match wins. min_class..max_class limit the reply classes a rule reads.
inline constexpr std::array<CauseTextRule, 205> kCauseTextRules{{
    {"tcp write error", Cause::timeout, 4, 5},
    // Postfix drops a client after smtpd_hard_error_limit bad commands.
    {"too many errors", Cause::syntax, 4, 5},
    {"tcp read error", Cause::timeout, 4, 5},
    {"greylisted", Cause::greylisting, 4, 4},
    {"graylisted", Cause::greylisting, 4, 4},
    {"greylisting", Cause::greylisting, 4, 4},
    {"graylisting", Cause::greylisting, 4, 4},
    {"greylist", Cause::greylisting, 4, 4},
    {"graylist", Cause::greylisting, 4, 4},
    {"connection rate", Cause::rate_limit, 4, 5},
    {"too many connections", Cause::too_many_connections, 4, 5},
    {"too many concurrent", Cause::too_many_connections, 4, 5},
    {"concurrent connections", Cause::too_many_connections, 4, 5},
    {"too many sessions", Cause::too_many_connections, 4, 5},
    {"too many simultaneous", Cause::too_many_connections, 4, 5},
    {"connection limit", Cause::too_many_connections, 4, 5},
    {"trop de connexions", Cause::too_many_connections, 4, 5},
    {"cannot find your reverse hostname", Cause::reverse_dns, 4, 5},
    {"cannot find your hostname", Cause::reverse_dns, 4, 5},
    {"reverse dns", Cause::reverse_dns, 4, 5},
    {"reverse lookup", Cause::reverse_dns, 4, 5},
    {"reverse hostname", Cause::reverse_dns, 4, 5},
    {"ptr record", Cause::reverse_dns, 4, 5},
    {"no ptr", Cause::reverse_dns, 4, 5},
    {"rdns", Cause::reverse_dns, 4, 5},
    {"helo command rejected", Cause::helo, 4, 5},
    {"need fully-qualified hostname", Cause::helo, 4, 5},
    {"bad helo", Cause::helo, 4, 5},
    {"invalid helo", Cause::helo, 4, 5},
    {"helo name", Cause::helo, 4, 5},
    {"ehlo name", Cause::helo, 4, 5},
    {"blocked using", Cause::blocklist, 4, 5},
    {"spamhaus", Cause::blocklist, 4, 5},
    {"spamcop", Cause::blocklist, 4, 5},
    {"barracuda", Cause::blocklist, 4, 5},
    {"sorbs", Cause::blocklist, 4, 5},
    {"dnsbl", Cause::blocklist, 4, 5},
    {"blocklist", Cause::blocklist, 4, 5},
    {"blacklist", Cause::blocklist, 4, 5},
    {"block list", Cause::blocklist, 4, 5},
    {"black list", Cause::blocklist, 4, 5},
    {"denylist", Cause::blocklist, 4, 5},
    {"banned sending ip", Cause::blocklist, 4, 5},
    {"dmarc", Cause::spf_dkim_dmarc, 4, 5},
    {"sender policy framework", Cause::spf_dkim_dmarc, 4, 5},
    {"dkim", Cause::spf_dkim_dmarc, 4, 5},
    {"spf", Cause::spf_dkim_dmarc, 4, 5},
    {"not designated as permitted sender", Cause::spf_dkim_dmarc, 4, 5},
    {"tls not available", Cause::server_error, 4, 5},
    {"must issue a starttls", Cause::tls_required, 4, 5},
    {"tls required", Cause::tls_required, 4, 5},
    {"requires tls", Cause::tls_required, 4, 5},
    {"tls is required", Cause::tls_required, 4, 5},
    {"encryption required", Cause::tls_required, 4, 5},
    {"requiretls", Cause::tls_required, 4, 5},
    {"authentication credentials invalid", Cause::auth_failed, 4, 5},
    {"invalid credentials", Cause::auth_failed, 4, 5},
    {"username and password not accepted", Cause::auth_failed, 4, 5},
    {"authentication failed", Cause::auth_failed, 4, 5},
    {"authentication unsuccessful", Cause::auth_failed, 4, 5},
    {"too many login attempts", Cause::auth_failed, 4, 5},
    {"authentication required", Cause::auth_required, 4, 5},
    {"authentication is required", Cause::auth_required, 4, 5},
    {"must authenticate", Cause::auth_required, 4, 5},
    {"not authenticated", Cause::auth_required, 4, 5},
    {"starttls", Cause::tls_required, 4, 5},
    {"relay access denied", Cause::relay_denied, 4, 5},
    {"relaying denied", Cause::relay_denied, 4, 5},
    {"not permitted to relay", Cause::relay_denied, 4, 5},
    {"unable to relay", Cause::relay_denied, 4, 5},
    {"relay not permitted", Cause::relay_denied, 4, 5},
    {"relaying not allowed", Cause::relay_denied, 4, 5},
    {"we do not relay", Cause::relay_denied, 4, 5},
    {"sender address rejected", Cause::sender_rejected, 4, 5},
    {"sender verify failed", Cause::sender_rejected, 4, 5},
    {"sender rejected", Cause::sender_rejected, 4, 5},
    {"sender denied", Cause::sender_rejected, 4, 5},
    {"invalid sender", Cause::sender_rejected, 4, 5},
    {"bad sender", Cause::sender_rejected, 4, 5},
    {"banned sender", Cause::sender_rejected, 4, 5},
    {"submission quota", Cause::rate_limit, 4, 5},
    {"sending quota", Cause::rate_limit, 4, 5},
    {"sending limit", Cause::rate_limit, 4, 5},
    {"mailbox full", Cause::mailbox_full, 4, 5},
    {"mailbox is full", Cause::mailbox_full, 4, 5},
    {"over quota", Cause::mailbox_full, 4, 5},
    {"quota exceeded", Cause::mailbox_full, 4, 5},
    {"exceeded storage allocation", Cause::mailbox_full, 4, 5},
    {"out of storage", Cause::mailbox_full, 4, 5},
    {"quota", Cause::mailbox_full, 4, 5},
    {"message size exceeds", Cause::message_too_large, 4, 5},
    {"exceeds size limit", Cause::message_too_large, 4, 5},
    {"size limit", Cause::message_too_large, 4, 5},
    {"message too large", Cause::message_too_large, 4, 5},
    {"too large", Cause::message_too_large, 4, 5},
    {"too big", Cause::message_too_large, 4, 5},
    {"message length exceeds", Cause::message_too_large, 4, 5},
    {"too many recipients", Cause::too_many_recipients, 4, 5},
    {"too many rcpt", Cause::too_many_recipients, 4, 5},
    {"rate limit", Cause::rate_limit, 4, 5},
    {"ratelimit", Cause::rate_limit, 4, 5},
    {"rate-limit", Cause::rate_limit, 4, 5},
    {"unusual rate", Cause::rate_limit, 4, 5},
    {"too fast", Cause::rate_limit, 4, 5},
    {"too quickly", Cause::rate_limit, 4, 5},
    {"too many messages", Cause::rate_limit, 4, 5},
    {"sending rate", Cause::rate_limit, 4, 5},
    {"throttl", Cause::rate_limit, 4, 5},
    {"deferred due to", Cause::rate_limit, 4, 5},
    {"excessive", Cause::rate_limit, 4, 5},
    {"domain not found", Cause::routing, 4, 5},
    {"domain does not exist", Cause::routing, 4, 5},
    {"host not found", Cause::routing, 4, 5},
    {"host unknown", Cause::routing, 4, 5},
    {"unrouteable", Cause::routing, 4, 5},
    {"unable to route", Cause::routing, 4, 5},
    {"no mx", Cause::routing, 4, 5},
    {"null mx", Cause::routing, 4, 5},
    {"routing loop", Cause::routing, 4, 5},
    {"loop detected", Cause::routing, 4, 5},
    {"too many hops", Cause::routing, 4, 5},
    {"hop count", Cause::routing, 4, 5},
    {"user unknown", Cause::unknown_recipient, 4, 5},
    {"unknown user", Cause::unknown_recipient, 4, 5},
    {"no such user", Cause::unknown_recipient, 4, 5},
    {"no such mailbox", Cause::unknown_recipient, 4, 5},
    {"recipient unknown", Cause::unknown_recipient, 4, 5},
    {"unknown recipient", Cause::unknown_recipient, 4, 5},
    {"recipient not found", Cause::unknown_recipient, 4, 5},
    {"invalid recipient", Cause::unknown_recipient, 4, 5},
    {"mailbox not found", Cause::unknown_recipient, 4, 5},
    {"mailbox disabled", Cause::unknown_recipient, 4, 5},
    {"account disabled", Cause::unknown_recipient, 4, 5},
    {"does not exist", Cause::unknown_recipient, 5, 5},
    {"mailbox unavailable", Cause::unknown_recipient, 5, 5},
    {"virus", Cause::content_rejected, 4, 5},
    {"malware", Cause::content_rejected, 4, 5},
    {"infected", Cause::content_rejected, 4, 5},
    {"phishing", Cause::content_rejected, 4, 5},
    {"unsolicited", Cause::content_rejected, 4, 5},
    {"content rejected", Cause::content_rejected, 4, 5},
    {"spam", Cause::content_rejected, 4, 5},
    {"suspicious", Cause::content_rejected, 4, 5},
    {"command not recognized", Cause::syntax, 5, 5},
    {"command unrecognized", Cause::syntax, 5, 5},
    {"unrecognized command", Cause::syntax, 5, 5},
    {"unknown command", Cause::syntax, 5, 5},
    {"invalid command", Cause::syntax, 5, 5},
    {"syntax error", Cause::syntax, 5, 5},
    {"bad sequence", Cause::syntax, 5, 5},
    {"need mail command", Cause::syntax, 5, 5},
    {"need rcpt command", Cause::syntax, 5, 5},
    {"send helo first", Cause::syntax, 5, 5},
    {"send hello first", Cause::syntax, 5, 5},
    {"not implemented", Cause::syntax, 5, 5},
    {"line too long", Cause::syntax, 5, 5},
    {"need fully-qualified address", Cause::syntax, 4, 5},
    {"bare lf", Cause::syntax, 4, 5},
    {"bare line feed", Cause::syntax, 4, 5},
    {"timeout", Cause::timeout, 4, 5},
    {"timed out", Cause::timeout, 4, 5},
    {"time out", Cause::timeout, 4, 5},
    {"time-out", Cause::timeout, 4, 5},
    {"connection dropped", Cause::network_error, 4, 5},
    {"connection was dropped", Cause::network_error, 4, 5},
    {"connection reset", Cause::network_error, 4, 5},
    {"lost connection", Cause::network_error, 4, 5},
    {"connection refused", Cause::network_error, 4, 5},
    {"broken pipe", Cause::network_error, 4, 5},
    {"no route to host", Cause::network_error, 4, 5},
    {"network is unreachable", Cause::network_error, 4, 5},
    {"helo", Cause::helo, 4, 5},
    {"ehlo", Cause::helo, 4, 5},
    {"rbl", Cause::blocklist, 4, 5},
    {"listed", Cause::blocklist, 4, 5},
    {"reputation", Cause::blocklist, 4, 5},
    {"too many errors", Cause::policy, 4, 5},
    {"access denied", Cause::policy, 4, 5},
    {"not authorized", Cause::policy, 4, 5},
    {"administrative prohibition", Cause::policy, 4, 5},
    {"prohibited", Cause::policy, 4, 5},
    {"policy", Cause::policy, 4, 5},
    {"recipient address rejected", Cause::unknown_recipient, 4, 5},
    {"insufficient system storage", Cause::server_error, 4, 5},
    {"local error", Cause::server_error, 4, 5},
    {"server error", Cause::server_error, 4, 5},
    {"internal error", Cause::server_error, 4, 5},
    {"temporary lookup failure", Cause::server_error, 4, 5},
    {"local problem", Cause::server_error, 4, 5},
    {"system resources", Cause::server_error, 4, 5},
    {"out of memory", Cause::server_error, 4, 5},
    {"service not available", Cause::service_unavailable, 4, 5},
    {"service unavailable", Cause::service_unavailable, 4, 5},
    {"temporarily unavailable", Cause::service_unavailable, 4, 5},
    {"no smtp service", Cause::service_unavailable, 4, 5},
    {"does not accept mail", Cause::service_unavailable, 4, 5},
    {"not accepting mail", Cause::service_unavailable, 4, 5},
    {"not accepting network messages", Cause::service_unavailable, 4, 5},
    {"shutting down", Cause::service_unavailable, 4, 5},
    {"maintenance", Cause::service_unavailable, 4, 5},
    {"too busy", Cause::service_unavailable, 4, 5},
    {"server busy", Cause::service_unavailable, 4, 5},
    {"try again later", Cause::greylisting, 4, 4},
    {"please try later", Cause::greylisting, 4, 4},
    {"come back later", Cause::greylisting, 4, 4},
}};

// Label, description and advice per cause, indexed by the Cause value.
// Advice may use the {client} and {server} placeholders.
inline constexpr std::array<CauseRow, static_cast<std::size_t>(Cause::count_)> kCauses{{
    {Cause::none, "",
     "No specific cause could be read from the code or the text",
     ""},
    {Cause::greylisting, "greylisting",
     "The server defers a first attempt from an unknown sender/IP to weed out spam bots",
     "nothing to fix: retry from the same address after a few minutes (most MTAs do this by themselves)"},
    {Cause::rate_limit, "rate-limit",
     "The server caps how many messages, recipients or sessions it accepts per time window",
     "slow down: the server limits how fast {client} may send; spread the queue and retry later"},
    {Cause::blocklist, "blocklist",
     "The client IP or sending domain is on a DNS blocklist or has a poor reputation",
     "look {client} up on the named blocklist and request delisting"},
    {Cause::reverse_dns, "reverse-dns",
     "The client IP has no PTR record, or the PTR name does not resolve back to it",
     "check the PTR record of {client} and that it resolves back to {client}"},
    {Cause::helo, "helo",
     "The HELO/EHLO name was refused: not fully qualified, not resolvable or not matching",
     "make {client} announce a fully qualified HELO name that resolves back to {client}"},
    {Cause::mailbox_full, "mailbox-full",
     "The recipient's mailbox is over its storage quota",
     "nothing to fix on the sending side: the recipient must free space; retry later"},
    {Cause::message_too_large, "message-too-large",
     "The message is bigger than the server or the mailbox accepts",
     "compare the message size with the SIZE {server} announces in EHLO; shrink it or send a link"},
    {Cause::unknown_recipient, "unknown-recipient",
     "The recipient address does not exist or no longer takes mail",
     "check the recipient address for typos and remove it from lists if it keeps failing"},
    {Cause::relay_denied, "relay-denied",
     "The server will not pass mail from this client on to a domain it does not host",
     "authenticate first, or allow {client} to relay on {server}; also check the MX points to the right host"},
    {Cause::tls_required, "tls-required",
     "An encrypted session is required, or TLS could not be set up or validated",
     "make {client} start TLS (STARTTLS) before commands that need it, such as MAIL or AUTH, and check certificates and TLS versions with {server}"},
    {Cause::auth_required, "auth-required",
     "The server wants SMTP AUTH before it accepts this mail",
     "configure {client} to authenticate (SMTP AUTH, usually port 587 with STARTTLS)"},
    {Cause::auth_failed, "auth-failed",
     "The login was refused: wrong credentials, weak mechanism or disabled account",
     "check the username, password and AUTH mechanism configured on {client}"},
    {Cause::policy, "policy",
     "A local rule of the receiving side refused the mail",
     "read the reply text for the rule that fired and ask the postmaster of {server} if it is unclear"},
    {Cause::server_error, "server-error",
     "The receiving server had an internal problem (storage, resources, lookups)",
     "nothing to fix on {client}: retry later and report it to the admins of {server} if it persists"},
    {Cause::syntax, "syntax",
     "The server could not parse a command, or commands came in the wrong order",
     "look at the command just before this reply: {client} sent something {server} does not accept"},
    {Cause::too_many_recipients, "too-many-recipients",
     "The transaction named more recipients than the server allows",
     "split the message into smaller recipient batches per transaction"},
    {Cause::timeout, "timeout",
     "Something waited too long: a stalled transfer, a slow peer or a message that aged out",
     "look for a stalled transfer on the path to {server} (MTU black hole, firewall idle timeout) before blaming the server"},
    {Cause::too_many_connections, "too-many-connections",
     "The client holds more parallel sessions than the server allows",
     "lower the number of parallel connections from {client} to {server}"},
    {Cause::sender_rejected, "sender-rejected",
     "The envelope sender address or its domain was refused",
     "check that the MAIL FROM domain exists, resolves and may send from {client}"},
    {Cause::spf_dkim_dmarc, "spf-dkim-dmarc",
     "The message failed sender authentication (SPF, DKIM, DMARC or ARC)",
     "check that {client} is in the sender domain's SPF record and that DKIM signs with the From: domain"},
    {Cause::content_rejected, "content-rejected",
     "The message content was refused (spam verdict, malware, links or format)",
     "review the message content and links and ask the receiving side for the filter verdict"},
    {Cause::network_error, "network-error",
     "The connection could not be set up or broke during the transfer",
     "check that {server} port 25 is reachable and look for resets or retransmissions in the capture"},
    {Cause::routing, "routing",
     "No usable next hop: DNS/MX trouble, null MX, routing loop or relay misconfiguration",
     "check the MX and A records of the recipient domain and the smart host or connector setup"},
    {Cause::service_unavailable, "service-unavailable",
     "The server offers no mail service right now (shutdown, maintenance, overload)",
     "retry later; if {server} never takes mail, check that the MX record points to the right host"},
}};

namespace detail {

constexpr bool basic_codes_sorted() noexcept
{
    for (std::size_t i = 1; i < kBasicCodes.size(); ++i) {
        if (!(kBasicCodes[i - 1].code < kBasicCodes[i].code)) return false;
    }
    return true;
}

constexpr bool enhanced_less(const EnhancedCodeRow& a, const EnhancedCodeRow& b) noexcept
{
    if (a.klass != b.klass) return a.klass < b.klass;
    if (a.subject != b.subject) return a.subject < b.subject;
    return a.detail < b.detail;
}

constexpr bool enhanced_codes_sorted() noexcept
{
    for (std::size_t i = 1; i < kEnhancedCodes.size(); ++i) {
        if (!enhanced_less(kEnhancedCodes[i - 1], kEnhancedCodes[i])) return false;
    }
    return true;
}

constexpr bool causes_indexed() noexcept
{
    for (std::size_t i = 0; i < kCauses.size(); ++i) {
        if (kCauses[i].cause != static_cast<Cause>(i)) return false;
    }
    return true;
}

constexpr bool subjects_indexed() noexcept
{
    for (std::size_t i = 0; i < kSubjects.size(); ++i) {
        if (kSubjects[i].subject != i) return false;
    }
    return true;
}

constexpr bool class_meanings_indexed() noexcept
{
    for (std::size_t i = 0; i < kClassMeanings.size(); ++i) {
        if (kClassMeanings[i].subject != i + 2) return false;
    }
    return true;
}

constexpr bool text_rules_valid() noexcept
{
    for (const auto& r : kCauseTextRules) {
        if (r.needle.empty() || r.min_class < 2 || r.max_class > 5 || r.min_class > r.max_class) return false;
        for (char ch : r.needle) {
            if (ch >= 'A' && ch <= 'Z') return false;
        }
    }
    return true;
}

constexpr bool texts_terminated() noexcept
{
    for (const auto& r : kClassMeanings)
        if (!whole_literal(r.meaning)) return false;
    for (const auto& r : kSubjects)
        if (!whole_literal(r.meaning)) return false;
    for (const auto& r : kBasicCodes)
        if (!whole_literal(r.meaning)) return false;
    for (const auto& r : kEnhancedCodes)
        if (!whole_literal(r.meaning)) return false;
    for (const auto& r : kVendorRows)
        if (!whole_literal(r.vendor) || !whole_literal(r.meaning)) return false;
    for (const auto& r : kCauses)
        if (!whole_literal(r.label) || !whole_literal(r.description) || !whole_literal(r.advice)) return false;
    return true;
}

constexpr bool vendor_rows_valid() noexcept
{
    for (const auto& v : kVendorRows) {
        if (v.detail_max != 0 && (v.enhanced.klass == 0 || v.detail_max <= v.enhanced.detail)) return false;
        for (char ch : v.text_contains) {
            if (ch >= 'A' && ch <= 'Z') return false;
        }
    }
    return true;
}

}  // namespace detail

static_assert(detail::basic_codes_sorted(), "kBasicCodes must be strictly ascending by code");
static_assert(detail::enhanced_codes_sorted(), "kEnhancedCodes must be strictly ascending by (klass, subject, detail)");
static_assert(detail::causes_indexed(), "kCauses[i].cause must equal Cause(i)");
static_assert(detail::subjects_indexed(), "kSubjects[i].subject must equal i");
static_assert(detail::class_meanings_indexed(), "kClassMeanings must list classes 2..5 in order");
static_assert(detail::text_rules_valid(), "kCauseTextRules: lower-case needles, classes within 2..5");
static_assert(detail::texts_terminated(),
              "table texts must each view a whole string literal: the plugin hands their data() to Wireshark as C strings");
static_assert(detail::vendor_rows_valid(), "kVendorRows: lower-case text keys, ranges need a class and detail_max > detail");

}  // namespace smtp_delivery
