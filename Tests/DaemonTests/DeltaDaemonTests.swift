import Foundation
import Testing
import TestSupport

/// Deltas through tandemd, as `updatectl update` asks for them: a format 3 bundle of a point
/// release of what slot A holds is installed into B from what A holds, whether the bundle is a
/// file or on an HTTP server (the Omaha flow has its own tests, in OmahaDaemonTests).
@Suite(.serialized)
struct DeltaDaemonTests {
    @Test("updatectl update installs a delta through tandemd, from a file and over HTTP", arguments: [false, true])
    func aDeltaThroughTandemd(overHTTP: Bool) throws {
        let setup = try DeltaScenario()
        let harness = try DaemonHarness(install: setup.harness)
        let server = overHTTP ? try BundleServer(file: setup.bundle) : nil
        try harness.start()
        let update = try harness.updatectl(["update", server?.url ?? setup.bundle])
        #expect(update.status == 0, "\(update.stdout)\(update.stderr)\n\(harness.log)")
        let last = try #require(try harness.updatectlJSON(["status", "--json"])["lastResult"] as? [String: Any])
        let copied = DeltaScenario.imageSize / 4096 - setup.changedOffsets.count
        #expect((last["message"] as? String)?.contains("as a delta: \(copied) blocks copied from the booted slot") == true, "\(last)")
        try setup.harness.expectInstalled(setup.image)
        try setup.expectBootedSlotUntouched()
        if let server {
            #expect(try server.bytesSent() * 4 < DeltaScenario.imageSize, "a quarter of the image at most")
        }
        harness.stop()
    }
}
