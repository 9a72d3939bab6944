/// An OS version such as `3975.2.1` or `1.0.0-beta2`, ordered for the manifest's
/// `min-version` check.
///
/// Deliberately simple, so that image builders can predict it: the text is split on `.`, `-`
/// and `+`; components are compared numerically when both are digits, else byte-wise; a
/// missing component counts as `0`. So `1.2` equals `1.2.0`, `1.10` is newer than `1.9`, and
/// `1.0-beta2` is newer than `1.0` (there is no pre-release rule as in SemVer). Equality is
/// this ordering's, not the text's.
public struct OSVersion: Comparable, Sendable, CustomStringConvertible {
    public let description: String
    private let components: [String]

    /// Any text is a version: an empty component (`1..2`) compares like `0`, as a missing one does.
    public init(_ text: String) {
        description = text
        components = text.split(omittingEmptySubsequences: false) { $0 == "." || $0 == "-" || $0 == "+" }.map(String.init)
    }

    public static func == (left: OSVersion, right: OSVersion) -> Bool {
        compare(left, right) == 0
    }

    public static func < (left: OSVersion, right: OSVersion) -> Bool {
        compare(left, right) < 0
    }

    private static func compare(_ left: OSVersion, _ right: OSVersion) -> Int {
        for index in 0..<max(left.components.count, right.components.count) {
            let order = compareComponent(left.component(index), right.component(index))
            if order != 0 { return order }
        }
        return 0
    }

    private func component(_ index: Int) -> String {
        index < components.count ? components[index] : "0"
    }

    /// Numbers are compared as digit strings without their leading zeros, shorter first, so
    /// that no component is too long to compare.
    private static func compareComponent(_ left: String, _ right: String) -> Int {
        var left = Array(left.utf8), right = Array(right.utf8)
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        if left.allSatisfy(digits.contains) && right.allSatisfy(digits.contains) {
            left = Array(left.drop { $0 == UInt8(ascii: "0") })
            right = Array(right.drop { $0 == UInt8(ascii: "0") })
            if left.count != right.count { return left.count < right.count ? -1 : 1 }
        }
        if left == right { return 0 }
        return left.lexicographicallyPrecedes(right) ? -1 : 1
    }
}
