@testable import Engine
import Foundation
import TestSupport
import Testing

/// The one table of tandem.conf's keys: each declared once, each documented, each integer
/// bounded before use.
@Suite struct ConfigurationKeyTableTests {
    @Test func everySectionAndKeyIsDeclaredExactlyOnce() {
        var seen: [String: Int] = [:]
        for key in Configuration.keys { seen["[\(key.section)] \(key.name)", default: 0] += 1 }
        #expect(seen.filter { $0.value > 1 }.isEmpty, "declared more than once: \(seen.filter { $0.value > 1 })")
        #expect(Configuration.keysBySectionAndName.count == Configuration.keys.count)
    }

    /// docs/configuration.md documents each key under its own section heading.
    @Test func everyKeyInTheTableIsDocumentedInItsSection() throws {
        let docs = try String(contentsOfFile: #filePath.components(separatedBy: "/Tests/")[0] + "/docs/configuration.md",
                              encoding: .utf8)
        for key in Configuration.keys {
            let heading = "## `[\(key.section)]`"
            let start = try #require(docs.range(of: heading), "docs/configuration.md has no \(heading) section")
            let rest = docs[start.upperBound...]
            let section = rest.range(of: "\n## ").map { rest[..<$0.lowerBound] } ?? rest
            #expect(section.contains("`\(key.name)=`"), "docs/configuration.md's [\(key.section)] does not document \(key.name)=")
        }
    }

    /// Durations are bounded above too, so that sums (an interval plus its jitter) cannot overflow.
    @Test(arguments: ["CheckIntervalSec", "CheckJitterSec", "FirstCheckDelaySec", "RequestTimeoutSec", "ConnectTimeoutSec"])
    func durationsAboveTheLimitAreRefused(key: String) throws {
        let refusal = try #require(try ConfigurationTests.refusal("[Update]\n\(key)=\(Int.max)\n"))
        #expect("\(refusal.error)".hasPrefix(refusal.path + ":2: \(key)=\(Int.max) is not valid"), "\(refusal.error)")
        #expect("\(refusal.error)".contains("up to 4294967295"), "\(refusal.error)")
        #expect(try ConfigurationTests.load("[Update]\n\(key)=4294967295\n") != Configuration())
    }

    @Test(arguments: [("Boot", "BlessGraceSec"), ("Reboot", "LockRetrySec")])
    func otherDurationsAreBoundedToo(section: String, key: String) throws {
        let refusal = try #require(try ConfigurationTests.refusal("[\(section)]\n\(key)=4294967296\n"))
        #expect("\(refusal.error)".hasPrefix(refusal.path + ":2: \(key)=4294967296 is not valid"), "\(refusal.error)")
    }

    @Test func anIntegerTooLargeForSixtyFourBitsNamesFileAndLine() throws {
        let refusal = try #require(try ConfigurationTests.refusal("[Update]\n\n\nTrialTries=18446744073709551616\n"))
        #expect("\(refusal.error)".hasPrefix(refusal.path + ":4: TrialTries=18446744073709551616 is not valid"),
                "\(refusal.error)")
    }
}
