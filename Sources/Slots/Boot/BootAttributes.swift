/// The 64-bit GPT partition attribute field, with the ChromeOS/Flatcar boot bits typed.
///
/// Bits 48-51 hold the priority, 52-55 the remaining tries and 56 the successful flag.
/// Every other bit (UEFI required, legacy BIOS bootable, read-only, no-auto, ...) belongs to
/// somebody else and is preserved exactly by every setter.
public struct BootAttributes: Hashable, Sendable {
    public var rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(priority: UInt8, tries: UInt8, successful: Bool, preserving other: UInt64 = 0) {
        rawValue = other & ~BootAttributes.bootBitsMask
        self.priority = priority
        self.tries = tries
        self.successful = successful
    }

    public static let maximumPriority: UInt8 = 15
    public static let maximumTries: UInt8 = 15

    static let priorityShift: UInt64 = 48
    static let triesShift: UInt64 = 52
    static let successfulShift: UInt64 = 56
    static let bootBitsMask: UInt64 = (0xF << priorityShift) | (0xF << triesShift) | (1 << successfulShift)

    /// Priority 0-15. Values above 15 are clamped: the field is four bits wide.
    public var priority: UInt8 {
        get { UInt8((rawValue >> Self.priorityShift) & 0xF) }
        set { setField(UInt64(min(newValue, Self.maximumPriority)), shift: Self.priorityShift, mask: 0xF) }
    }

    /// Tries left, 0-15. Values above 15 are clamped.
    public var tries: UInt8 {
        get { UInt8((rawValue >> Self.triesShift) & 0xF) }
        set { setField(UInt64(min(newValue, Self.maximumTries)), shift: Self.triesShift, mask: 0xF) }
    }

    public var successful: Bool {
        get { (rawValue >> Self.successfulShift) & 1 == 1 }
        set { setField(newValue ? 1 : 0, shift: Self.successfulShift, mask: 1) }
    }

    /// The bits outside priority, tries and successful.
    public var otherBits: UInt64 { rawValue & ~Self.bootBitsMask }

    /// Whether GRUB's `gptprio.next` may pick this partition at all.
    public var isBootable: Bool { priority > 0 && (tries > 0 || successful) }

    /// Priority 0, no tries, not successful: the state of a slot that must not boot,
    /// such as one that is being written or was marked bad.
    public func unbootable() -> BootAttributes {
        BootAttributes(priority: 0, tries: 0, successful: false, preserving: rawValue)
    }

    private mutating func setField(_ value: UInt64, shift: UInt64, mask: UInt64) {
        rawValue = (rawValue & ~(mask << shift)) | ((value & mask) << shift)
    }
}

extension BootAttributes: CustomStringConvertible {
    public var description: String {
        "priority=\(priority) tries=\(tries) successful=\(successful ? 1 : 0)"
    }
}
