import Foundation
import FuzzTargets
import Testing
import TestSupport

/// What a hostile input makes a library print. tandemd's stderr is its journal, so a server
/// must not be able to write there.
@Suite struct LibraryNoiseTests {
    /// libxml2 printed "encoding error : input conversion failed…" and "I/O error : encoder
    /// error" six times for this response, despite XML_PARSE_NOERROR (found by the omaha target).
    @Test func aResponseInABrokenEncodingIsRefusedSilently() throws {
        let input = ReplayTests.fuzzDirectory.appendingPathComponent("Regressions/omaha/broken-encoding-printed-to-stderr")
        let output = try Shell.capture([BuiltExecutable.path("tandem-fuzz"), "omaha", input.path])
        #expect(output.status == 0)
        #expect(output.stdout.contains("rejected: the update server's response is not XML"), "\(output.stdout)")
        #expect(output.stderr.isEmpty, "\(output.stderr)")
    }
}
