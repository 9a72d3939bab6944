/// Go's `net/url` escaping, byte for byte, because locksmith builds the etcd key of a group with
/// `url.QueryEscape` and its etcd client escapes that key again as a URL path: a group name must
/// reach the same key from Tandem as from locksmithctl.
enum GoEscaping {
    /// `url.QueryEscape`: everything but `A-Za-z0-9-_.~` is %XX (upper-case hex), space is `+`.
    static func queryEscape(_ text: String) -> String {
        escape(text, spaceAsPlus: true) { byte in
            !isUnreserved(byte)
        }
    }

    /// What `url.URL.String()` does to a path (`encodePath`): the reserved characters
    /// `$&+,/:;=@` stay, `?` and everything else outside the unreserved set become %XX.
    static func pathEscape(_ text: String) -> String {
        escape(text, spaceAsPlus: false) { byte in
            if isUnreserved(byte) { return false }
            switch byte {
            case UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: "/"),
                 UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: "@"):
                return false
            default:
                return true
            }
        }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func escape(_ text: String, spaceAsPlus: Bool, needsEscape: (UInt8) -> Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if byte == UInt8(ascii: " ") && spaceAsPlus {
                out.append(UInt8(ascii: "+"))
            } else if needsEscape(byte) {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
