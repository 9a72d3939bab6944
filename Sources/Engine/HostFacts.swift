import FoundationEssentials
import Platform
#if canImport(Glibc)
import Glibc
#endif

/// Facts about this boot that the records carry.
enum HostFacts {
    /// The kernel's id for this boot: a different one means the machine rebooted.
    static func bootID(file: String) -> String? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        let id = text.trimmingWhitespace()
        return id.isEmpty ? nil : id
    }

    /// Seconds since the kernel started, suspend included (CLOCK_BOOTTIME).
    static func uptime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_BOOTTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func now() -> Int64 {
        Int64(time(nil))
    }

    /// A short random transaction id, unique enough to tell transactions apart in logs.
    static func transactionID() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
