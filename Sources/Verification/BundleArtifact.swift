/// A boot file a bundle carries besides the slot image, for bootloaders that cannot read the
/// slot's own file system (layout in docs/bundle-format.md, "Boot artifacts").
///
/// The kinds mirror `Slots.BootArtifactKind` by raw value; Verification does not depend on
/// Slots, so the installer maps one to the other by name.
public struct BundleArtifact: Equatable, Sendable {
    /// In the order the artifacts' bytes follow the image in the bundle.
    public enum Kind: String, CaseIterable, Sendable, Comparable {
        case kernel, initrd, uki

        public static func < (lhs: Kind, rhs: Kind) -> Bool {
            allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
        }
    }

    /// An artifact is read whole onto the ESP and hashed there; a kernel, initrd or UKI is tens
    /// of MiB, so this bound only stops a hostile size from filling the ESP or overflowing sums.
    public static let maximumSize: UInt64 = 512 << 20

    public var kind: Kind
    public var size: UInt64
    public var sha256: [UInt8]

    public init(kind: Kind, size: UInt64, sha256: [UInt8]) {
        self.kind = kind
        self.size = size
        self.sha256 = sha256
    }

    /// The combinations a bootloader can boot: a kernel with or without an initrd, or a UKI alone.
    /// `artifacts` is sorted by kind with no kind twice.
    static func checkCombination(_ artifacts: [BundleArtifact]) throws(BundleError) {
        let kinds = artifacts.map(\.kind)
        guard kinds.isEmpty || kinds == [.kernel] || kinds == [.kernel, .initrd] || kinds == [.uki] else {
            throw .malformedManifest("it carries \(kinds.map(\.rawValue).joined(separator: " and ")); a bundle carries "
                + "a kernel (with or without an initrd) or a UKI, not both and not an initrd alone")
        }
    }
}

extension Array where Element == BundleArtifact {
    /// The sum of the sizes, or nil on overflow (each is at most `maximumSize`, so three cannot
    /// overflow, but the sum is computed from file input and so is checked anyway).
    public var totalSize: UInt64? {
        var total: UInt64 = 0
        for artifact in self {
            let (sum, overflow) = total.addingReportingOverflow(artifact.size)
            if overflow { return nil }
            total = sum
        }
        return total
    }
}
