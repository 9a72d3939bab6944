/// The variants of the overlapping-slot finding (issue 12), on TestDisk's Flatcar layout
/// (A 12288–45055, B 45056–77823, 131072 sectors): each was written before, over slot A, the
/// other partitions or the GPT itself.
public enum BadSlotLayout: String, CaseIterable, CustomStringConvertible, Sendable {
    case overlapsA = "B overlaps A"
    case sameAsA = "B has exactly A's range"
    case wholeDisk = "B spans the whole disk"
    case fromLBA1 = "B starts at LBA 1"
    case fromLBA0 = "B starts at LBA 0"
    public var description: String { rawValue }

    public func apply(to image: inout GPTImage) {
        switch self {
        case .overlapsA: image.set(entry: 4, .firstLBA, 13288)
        case .sameAsA:
            image.set(entry: 4, .firstLBA, 12288)
            image.set(entry: 4, .lastLBA, 45055)
        case .wholeDisk:
            image.set(entry: 4, .firstLBA, 34)
            image.set(entry: 4, .lastLBA, image.sectorCount - 34)
        case .fromLBA1, .fromLBA0:
            let first: UInt64 = self == .fromLBA1 ? 1 : 0
            image.set(.firstUsableLBA, first)
            image.set(entry: 4, .firstLBA, first)
        }
    }

    /// What the refusal must say: the partitions and their ranges, or why the table is unusable.
    public var expectedText: [String] {
        switch self {
        case .overlapsA: ["partition 3 (USR-A, LBA 12288–45055) and partition 4 (USR-B, LBA 13288–77823), the two slots, overlap"]
        case .sameAsA: ["partition 3 (USR-A, LBA 12288–45055) and partition 4 (USR-B, LBA 12288–45055), the two slots, overlap"]
        case .wholeDisk: ["partition 4 (USR-B, LBA 34–131038) overlaps partition 1 (EFI-SYSTEM, LBA 2048–10239)",
                          "overlaps partition 2 (BIOS-BOOT, LBA 10240–12287)"]
        case .fromLBA1: ["both GPT copies", "usable area LBA 1–131038 includes this header (LBA 1)"]
        case .fromLBA0: ["both GPT copies", "usable area LBA 0–131038 includes this header (LBA 1)"]
        }
    }
}
