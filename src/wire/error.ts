// Why a frame or header was rejected. Untrusted bytes never throw: parsers return one of these,
// and the stack counts drops by reason.

/** The reason a parser rejected its input. */
export type WireError =
  | 'truncated' // fewer bytes than the header (or a length field) needs
  | 'bad-version' // IP version nibble does not match
  | 'bad-header-length' // IPv4 IHL < 5 or past the buffer
  | 'bad-total-length' // IP total/payload length inconsistent with the buffer
  | 'bad-data-offset' // TCP data offset < 5 or past the buffer
  | 'bad-length' // a length field (UDP, ARP, option) is inconsistent
  | 'bad-option' // a TCP/IP option is malformed (length < 2, past the header, wrong fixed size)
  | 'bad-checksum' // the Internet checksum does not verify
  | 'bad-extension-header' // IPv6 extension header chain is malformed or too long
  | 'bad-value' // a field holds a value its RFC forbids (NDP code != 0, multicast NDP target, ...)
  | 'unsupported'; // well-formed but a kind we do not handle (e.g. ARP for a non-IPv4 protocol)
