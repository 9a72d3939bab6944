/// Go's `time.ParseDuration`, which locksmith uses for the reboot window's length, so that a
/// length written for locksmithd (`1h30m`, `90m`, `1.5h`, `300ms`) means the same here.
enum GoDuration {
    /// Why a text is not a Go duration; the wording follows Go's own errors.
    enum Failure: Error, Equatable {
        case invalid
        case missingUnit
        case unknownUnit(String)
        case overflow
    }

    private static let units: [String: UInt64] = [
        "ns": 1,
        "us": 1_000, "µs": 1_000, "μs": 1_000,  // U+00B5 and U+03BC, as Go accepts both
        "ms": 1_000_000,
        "s": 1_000_000_000,
        "m": 60_000_000_000,
        "h": 3_600_000_000_000,
    ]

    /// Nanoseconds, as Go's `time.Duration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or a bare `0`.
    static func nanoseconds(_ text: String) throws(Failure) -> Int64 {
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { throw .invalid }
        let limit: UInt64 = 1 << 63
        var total: UInt64 = 0
        while !rest.isEmpty {
            guard let first = rest.first, first == "." || first.isASCIIDigit else { throw .invalid }
            let integerDigits = rest.prefix(while: \.isASCIIDigit)
            rest = rest.dropFirst(integerDigits.count)
            var value: UInt64 = 0
            for digit in integerDigits {
                // Go refuses an integer part that does not fit rather than wrapping.
                guard value <= (limit - 1) / 10 else { throw .invalid }
                value = value * 10 + UInt64(digit.asciiValue! - 48)
                guard value <= limit else { throw .invalid }
            }
            var fraction: UInt64 = 0
            var scale = 1.0
            var fractionDigitCount = 0
            if rest.first == "." {
                rest = rest.dropFirst()
                let fractionDigits = rest.prefix(while: \.isASCIIDigit)
                rest = rest.dropFirst(fractionDigits.count)
                fractionDigitCount = fractionDigits.count
                // Like Go's leadingFraction: digits past what 63 bits can hold are read but ignored.
                var overflowed = false
                for digit in fractionDigits where !overflowed {
                    if fraction > (limit - 1) / 10 {
                        overflowed = true
                        continue
                    }
                    let next = fraction * 10 + UInt64(digit.asciiValue! - 48)
                    if next > limit {
                        overflowed = true
                        continue
                    }
                    fraction = next
                    scale *= 10
                }
            }
            guard !integerDigits.isEmpty || fractionDigitCount > 0 else { throw .invalid }
            let unitText = rest.prefix { $0 != "." && !$0.isASCIIDigit }
            rest = rest.dropFirst(unitText.count)
            guard !unitText.isEmpty else { throw .missingUnit }
            guard let unit = units[String(unitText)] else { throw .unknownUnit(String(unitText)) }
            guard value <= limit / unit else { throw .overflow }
            value *= unit
            if fraction > 0 {
                value += UInt64(Double(fraction) * (Double(unit) / scale))
                guard value <= limit else { throw .overflow }
            }
            total += value
            guard total <= limit else { throw .overflow }
        }
        if negative { return total == limit ? Int64.min : -Int64(total) }
        guard total <= limit - 1 else { throw .overflow }
        return Int64(total)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
